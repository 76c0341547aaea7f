"""Printable pages (receipts, the shift handover) and CSV exports: rendered on the server
so they print the same from any browser, with money formatted by Babel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

_TEMPLATES = Path(__file__).parent / "web" / "templates" / "print"
_ENV = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))


def money(amount: int, currency: str, locale: str = "en") -> str:
    """Minor units as the venue reads them: 1250 USD is $12.50."""
    digits = 0 if currency in {"JPY", "KRW", "ISK", "CLP", "VND"} else 2
    return str(format_currency(amount / 10**digits, currency, locale=locale))


def render(template: str, context: Mapping[str, Any]) -> HTMLResponse:
    currency = str(context.get("currency", "USD"))
    zone = ZoneInfo(str(context.get("timezone", "UTC")))

    def as_money(amount: int | None) -> str:
        return "" if amount is None else money(amount, currency)

    def as_time(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    page = _ENV.get_template(template).render(**context, money=as_money, local_time=as_time)
    return HTMLResponse(page)


def csv_response(name: str, rows: Iterable[Mapping[str, object]]) -> Response:
    rows = list(rows)
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv", headers=headers)


def _cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value
