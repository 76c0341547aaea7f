"""Revenue and shift reports, as JSON or CSV. Figures come straight from the payments
table: each is the sum of the rows it names, so it matches that table to the cent."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from gameops.server.deps import DbDep, SettingsDep, StaffUser
from gameops.server.errors import Unprocessable
from gameops.server.reports import repository
from gameops.server.reports.domain import (
    GroupBy,
    Totals,
    cash_by_operator,
    money_figures,
    revenue,
    spreadsheet_safe,
    tax_totals,
)

router = APIRouter(prefix="/reports", tags=["reports"])
Since = Annotated[datetime, Query(alias="from", description="ISO 8601 with a zone; inclusive")]
Until = Annotated[datetime, Query(alias="to", description="ISO 8601 with a zone; exclusive")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet export")]
# format=csv answers with a spreadsheet file instead of JSON.
AS_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


class RevenueLine(BaseModel):
    key: str
    payments: int
    gross: int
    refunds: int
    net: int


class RevenueReport(BaseModel):
    currency: str
    group_by: GroupBy
    since: datetime
    until: datetime
    groups: list[RevenueLine]
    total: RevenueLine


class OperatorCash(BaseModel):
    operator_id: uuid.UUID | None
    operator: str
    payments: int
    cash: int


class ShiftReport(BaseModel):
    currency: str
    since: datetime
    until: datetime
    operators: list[OperatorCash]
    total_cash: int


@router.get("/revenue", response_model=RevenueReport, responses=AS_CSV)
async def revenue_report(
    settings: SettingsDep,
    db: DbDep,
    _: StaffUser,
    since: Since,
    until: Until,
    group_by: GroupBy = GroupBy.DAY,
    format: Format = "json",
) -> RevenueReport | Response:
    _check_window(since, until)
    rows = await repository.completed_payments(db, since, until)
    zone = ZoneInfo(settings.venue_timezone)
    groups, total = revenue(rows, group_by, zone)
    report = RevenueReport(
        currency=settings.currency,
        group_by=group_by,
        since=since,
        until=until,
        groups=[_line(g) for g in groups],
        total=_line(total),
    )
    if format == "csv":
        lines = [*report.groups, report.total]
        return _csv(f"revenue-by-{group_by.value}", [_row(line) for line in lines])
    return report


@router.get("/shift", response_model=ShiftReport, responses=AS_CSV)
async def shift_report(
    settings: SettingsDep,
    db: DbDep,
    _: StaffUser,
    since: Since,
    until: Until,
    format: Format = "json",
) -> ShiftReport | Response:
    """Cash taken per operator between two times (sales and top-ups)."""
    _check_window(since, until)
    taken = cash_by_operator(await repository.completed_payments(db, since, until))
    operators = [OperatorCash.model_validate(t, from_attributes=True) for t in taken]
    report = ShiftReport(
        currency=settings.currency,
        since=since,
        until=until,
        operators=operators,
        total_cash=sum(o.cash for o in operators),
    )
    if format == "csv":
        rows = [{**o.model_dump(mode="json")} for o in operators]
        rows.append(
            {"operator_id": "", "operator": "total", "payments": "", "cash": report.total_cash}
        )
        return _csv("shift", rows)
    return report


class Liability(BaseModel):
    """What the venue owes customers: their balances plus the booking deposits it holds
    for them (taken from a balance, not yet credited, refunded or kept)."""

    at_start: int
    at_end: int
    change: int
    held_deposits_at_start: int  # of ``at_start``
    held_deposits_at_end: int  # of ``at_end``


class MoneyReport(BaseModel):
    """The three figures of docs/money.md. Over any window without admin balance
    adjustments, ``money_in.total - revenue == liability.change``."""

    currency: str
    since: datetime
    until: datetime
    money_in: dict[str, int]
    revenue: int
    sales_by_method: dict[str, int]
    refunds: int
    topups: int
    kept_deposits: int  # of ``revenue``: booking deposits kept (no-shows)
    liability: Liability
    taxes: list[dict[str, int]]


@router.get("/money", response_model=MoneyReport)
async def money_report(
    settings: SettingsDep, db: DbDep, _: StaffUser, since: Since, until: Until
) -> MoneyReport:
    """Money in (cash and card), revenue (what was sold, balance spending once) and the
    balance liability (what customers hold)."""
    _check_window(since, until)
    payments = await repository.completed_payments(db, since, until)
    figures = money_figures(payments, await repository.kept_deposits(db, since, until))
    held_start = await repository.held_deposits_at(db, since)
    held_end = await repository.held_deposits_at(db, until)
    start = await repository.liability_at(db, since) + held_start
    end = await repository.liability_at(db, until) + held_end
    return MoneyReport(
        currency=settings.currency,
        since=since,
        until=until,
        money_in=figures.money_in,
        revenue=figures.revenue,
        sales_by_method=figures.sales_by_method,
        refunds=figures.refunds,
        topups=figures.topups,
        kept_deposits=figures.kept_deposits,
        liability=Liability(
            at_start=start,
            at_end=end,
            change=end - start,
            held_deposits_at_start=held_start,
            held_deposits_at_end=held_end,
        ),
        taxes=tax_totals(await repository.receipt_taxes(db, since, until)),
    )


def _check_window(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise Unprocessable("from and to need a time zone, e.g. 2026-11-23T00:00:00Z")
    if since >= until:
        raise Unprocessable("from must be before to")


def _line(totals: Totals) -> RevenueLine:
    return RevenueLine(
        key=totals.key,
        payments=totals.payments,
        gross=totals.gross,
        refunds=totals.refunds,
        net=totals.net,
    )


def _row(line: RevenueLine) -> dict[str, object]:
    return line.model_dump()


def _csv(name: str, rows: list[dict[str, object]]) -> Response:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv", headers=headers)
