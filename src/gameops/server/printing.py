"""Printable pages (receipts, the shift handover) and CSV exports: rendered on the server
so they print the same from any browser, in the venue's language (the catalogues of
``gameops.i18n``), money and times formatted by Babel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gameops import i18n
from gameops.i18n import formatting

_TEMPLATES = Path(__file__).parent / "web" / "templates" / "print"
_ENV = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))


def render(template: str, context: Mapping[str, Any]) -> HTMLResponse:
    """``context`` has ``currency``, ``timezone`` and ``language``: the page gets ``t`` (the
    catalogue's words), ``money`` and ``local_time`` (Babel, the language's way)."""
    currency = str(context.get("currency", "USD"))
    zone = str(context.get("timezone", "UTC"))
    language = str(context.get("language", "en"))

    def as_money(amount: int | None) -> str:
        return "" if amount is None else formatting.money(amount, currency, language)

    def as_time(moment: datetime | None) -> str:
        return "" if moment is None else formatting.moment(moment, zone, language, "short")

    def words(key: str, **values: object) -> str:
        return i18n.translate(language, key, **values)

    page = _ENV.get_template(template).render(
        **context, money=as_money, local_time=as_time, t=words
    )
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
