"""The till's shifts: open with a counted float, close with a count, the handover report."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import Response
from pydantic import BaseModel

from gameops.server.accounts.domain import check_amount
from gameops.server.deps import DbDep, PageDep, SettingsDep, StaffUser
from gameops.server.printing import csv_response, render
from gameops.server.schemas import PageMeta, Paginated
from gameops.server.shifts import repository, service
from gameops.server.shifts.schemas import (
    CorrectionCreate,
    CorrectionPublic,
    HandoverReport,
    ShiftClose,
    ShiftOpen,
    ShiftPublic,
)

router = APIRouter(prefix="/shifts", tags=["shifts"])
Format = Annotated[
    Literal["json", "csv", "html"], Query(description="csv: a spreadsheet; html: printable")
]


class TillSettings(BaseModel):
    currency: str
    denominations: list[int]
    require_open_shift: bool
    prices_include_tax: bool
    stop_refund: str


@router.get("/till")
async def till_settings(settings: SettingsDep, _: StaffUser) -> TillSettings:
    """What the count form offers: the notes and coins of this till."""
    return TillSettings(
        currency=settings.currency,
        denominations=sorted(settings.cash_denominations, reverse=True),
        require_open_shift=settings.require_open_shift,
        prices_include_tax=settings.prices_include_tax,
        stop_refund=settings.stop_refund_mode,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def open_shift(
    body: ShiftOpen, settings: SettingsDep, db: DbDep, staff: StaffUser
) -> ShiftPublic:
    return ShiftPublic.model_validate(await service.open_shift(settings, db, body, staff))


@router.get("/current")
async def current_shift(db: DbDep, _: StaffUser) -> ShiftPublic:
    """The open shift; 404 when none is open."""
    return ShiftPublic.model_validate(await service.current_shift(db))


@router.get("", response_model=Paginated[ShiftPublic])
async def list_shifts(db: DbDep, _: StaffUser, page: PageDep) -> Paginated[ShiftPublic]:
    rows, total = await repository.list_shifts(db, page.offset, page.per_page)
    return Paginated(
        items=[ShiftPublic.model_validate(s) for s in rows],
        meta=PageMeta.of(page.page, page.per_page, total),
    )


@router.post("/{shift_id}/close")
async def close_shift(
    shift_id: uuid.UUID, body: ShiftClose, settings: SettingsDep, db: DbDep, staff: StaffUser
) -> ShiftPublic:
    """Count the drawer; the shift is then locked (later corrections are new entries)."""
    shift = await service.close_shift(settings, db, shift_id, body, staff)
    return ShiftPublic.model_validate(shift)


@router.post("/{shift_id}/corrections", status_code=status.HTTP_201_CREATED)
async def correct_shift(
    shift_id: uuid.UUID, body: CorrectionCreate, settings: SettingsDep, db: DbDep, staff: StaffUser
) -> CorrectionPublic:
    check_amount(body.amount, settings.max_amount, "the correction")
    return CorrectionPublic.model_validate(await service.correct(db, shift_id, body, staff))


@router.get("/{shift_id}/report", response_model=HandoverReport)
async def handover_report(
    shift_id: uuid.UUID, settings: SettingsDep, db: DbDep, _: StaffUser, format: Format = "json"
) -> HandoverReport | Response:
    """The handover: sales by method, top-ups, refunds, voids, the drawer and its variance."""
    report = await service.report(settings, db, shift_id)
    if format == "csv":
        return csv_response(f"shift-{report.shift.opened_at:%Y%m%d-%H%M}", _csv_rows(report))
    if format == "html":
        context = {
            "report": report,
            "currency": settings.currency,
            "timezone": settings.venue_timezone,
            "language": settings.venue_language,
            "venue": settings.venue_name,
        }
        return render("handover.html", context)
    return report


def _csv_rows(report: HandoverReport) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def line(section: str, item: str, amount: int | None) -> None:
        rows.append({"section": section, "item": item, "amount": amount})

    line("shift", f"opened by {report.opened_by}", None)
    line("shift", f"closed by {report.closed_by or ''}", None)
    line("shift", "operators: " + ", ".join(report.operators), None)
    for title, figures in (
        ("sales", report.sales),
        ("of which snacks and drinks", report.shop_sales),
        ("top-ups", report.topups),
        ("refunds", report.refunds),
    ):
        for method, amount in sorted(figures.items()):
            line(title, method, amount)
    line("voids", "count", report.voids)
    line("drawer", "opening float", report.shift.opening_float)
    line("drawer", "cash in", report.cash_in)
    line("drawer", "cash out", report.cash_out)
    line("drawer", "expected", report.expected_cash)
    line("drawer", "counted", report.counted_cash)
    line("drawer", "variance", report.variance)
    for correction in report.corrections:
        line("correction", correction.reason, correction.amount)
    line("drawer", "variance after corrections", report.corrected_variance)
    return rows
