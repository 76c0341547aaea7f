"""Report arithmetic. Pure: rows in, totals out, so every figure is testable to the cent.

Revenue counts COMPLETED payments by when they completed. Money given back (purpose
REFUND) is shown apart and subtracted in ``net``. BALANCE rows are prepaid money being
spent, already counted when it was topped up by cash or card: group by method to see them
apart from the money taken.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
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
