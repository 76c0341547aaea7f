"""Report arithmetic. Pure: rows in, totals out, so every figure is testable to the cent.

Revenue counts COMPLETED payments by when they completed. Money given back (purpose
REFUND) is shown apart and subtracted in ``net``. BALANCE rows are prepaid money being
spent, already counted when it was topped up by cash or card: group by method to see them
apart from the money taken.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from gameops.server.payments.domain import PaymentMethod, PaymentPurpose

NO_STATION = "(no station)"


class GroupBy(StrEnum):
    DAY = "day"
    METHOD = "method"
    STATION = "station"


@dataclass(frozen=True)
class PaymentRow:
    amount: int
    method: PaymentMethod
    purpose: PaymentPurpose
    completed_at: datetime
    station: str | None
    operator_id: uuid.UUID | None
    operator: str | None


@dataclass
class Totals:
    key: str
    payments: int = 0
    gross: int = 0
    refunds: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds

    def add(self, row: PaymentRow) -> None:
        self.payments += 1
        if row.purpose is PaymentPurpose.REFUND:
            self.refunds += row.amount
        else:
            self.gross += row.amount


def revenue(
    rows: Iterable[PaymentRow], group_by: GroupBy, zone: tzinfo
) -> tuple[list[Totals], Totals]:
    """Totals per group (sorted by key) and over everything."""
    key_of = _keys(zone)[group_by]
    groups: dict[str, Totals] = {}
    overall = Totals("total")
    for row in rows:
        key = key_of(row)
        groups.setdefault(key, Totals(key)).add(row)
        overall.add(row)
    return [groups[k] for k in sorted(groups)], overall


def _keys(zone: tzinfo) -> dict[GroupBy, Callable[[PaymentRow], str]]:
    return {
        GroupBy.DAY: lambda row: row.completed_at.astimezone(zone).date().isoformat(),
        GroupBy.METHOD: lambda row: row.method.value,
        GroupBy.STATION: lambda row: row.station or NO_STATION,
    }


@dataclass
class CashTaken:
    operator_id: uuid.UUID | None
    operator: str
    payments: int = 0
    cash: int = 0


def cash_by_operator(rows: Iterable[PaymentRow]) -> list[CashTaken]:
    """Cash each operator took (sales and top-ups): what their drawer should hold."""
    taken: dict[uuid.UUID | None, CashTaken] = defaultdict(lambda: CashTaken(None, ""))
    for row in rows:
        if row.method is not PaymentMethod.CASH or row.purpose is PaymentPurpose.REFUND:
            continue
        entry = taken[row.operator_id]
        entry.operator_id, entry.operator = row.operator_id, row.operator or "(unknown)"
        entry.payments += 1
        entry.cash += row.amount
    return sorted(taken.values(), key=lambda t: t.operator)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# tab and carriage return are read as the same by some. A station named "=HYPERLINK(...)"
# must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet runs: text that could start a formula gets a
    leading apostrophe (shown as text, as OWASP advises); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# Purposes that are revenue: what the customer bought (time, packages, snacks), whatever
# paid for it. A top-up is not revenue: it is money held for the customer (liability).
SALES = frozenset(
    {
        PaymentPurpose.SESSION_START,
        PaymentPurpose.SESSION_EXTENSION,
        PaymentPurpose.SHOP_SALE,
        PaymentPurpose.GUEST_TICKET,
    }
)
TILL_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD)


@dataclass(frozen=True)
class MoneyFigures:
    """The three figures of docs/money.md, for one window of time."""

    money_in: dict[str, int]  # CASH, CARD and total: net of money paid back that way
    revenue: int  # sales of any method (balance included) less refunds, plus kept deposits
    sales_by_method: dict[str, int]
    topups: int
    refunds: int
    kept_deposits: int  # reservation deposits the venue kept (no-shows): revenue, no payment


def money_figures(rows: Iterable[PaymentRow], kept_deposits: int = 0) -> MoneyFigures:
    """Money in counts only what reached the till or the bank (cash, card); revenue counts
    every sale once, whether paid now or from a balance topped up earlier, and the booking
    deposits the venue kept (taken from a balance at booking, they become the venue's when
    it keeps them; a deposit credited against play or refunded is never revenue: the play
    it paid for is, once)."""
    money_in = {method.value: 0 for method in TILL_METHODS}
    by_method = {method.value: 0 for method in PaymentMethod}
    topups = refunds = 0
    for row in rows:
        sign = -1 if row.purpose is PaymentPurpose.REFUND else 1
        if row.method in TILL_METHODS:
            money_in[row.method.value] += sign * row.amount
        if row.purpose in SALES:
            by_method[row.method.value] += row.amount
        elif row.purpose is PaymentPurpose.REFUND:
            refunds += row.amount
        elif row.purpose is PaymentPurpose.TOPUP:
            topups += row.amount
    return MoneyFigures(
        money_in={**money_in, "total": sum(money_in.values())},
        revenue=sum(by_method.values()) - refunds + kept_deposits,
        sales_by_method=by_method,
        topups=topups,
        refunds=refunds,
        kept_deposits=kept_deposits,
    )


def tax_totals(lines: Iterable[Mapping[str, int]]) -> list[dict[str, int]]:
    """Receipts' tax lines summed per rate, highest rate first (refunds are negative)."""
    totals: dict[int, dict[str, int]] = {}
    for line in lines:
        rate = line["rate_bp"]
        total = totals.setdefault(rate, {"rate_bp": rate, "net": 0, "tax": 0, "gross": 0})
        for key in ("net", "tax", "gross"):
            total[key] += line[key]
    return [totals[rate] for rate in sorted(totals, reverse=True)]
