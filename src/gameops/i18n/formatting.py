"""Money and moments for people, on the server (receipts, reports, messages): Babel, in a
catalogue's language, the venue's currency and time zone. The browser does the same with
``Intl`` (``web/static/js/format.js``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, get_currency_precision


def money(minor_units: int, currency: str, language: str) -> str:
    """``1250, "EUR", "de"`` -> ``"12,50 €"``: integer minor units in the currency's digits."""
    digits = get_currency_precision(currency)
    return format_currency(minor_units / 10**digits, currency, locale=language)


def moment(when: datetime, timezone: str, language: str, style: str = "medium") -> str:
    """A tz-aware moment on the venue's clock, written the language's way."""
    return format_datetime(when, style, tzinfo=ZoneInfo(timezone), locale=language)
