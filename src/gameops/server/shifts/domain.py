"""Shift rules: counting a drawer and what it should hold. Pure: no I/O.

A shift is the till's life between two counts: opened with a counted float, every cash
payment belongs to it, closed with a count by denomination. Expected cash is the float
plus cash taken less cash paid back; the variance is counted less expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gameops.server.errors import Unprocessable
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose


class ShiftStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


def count_total(counts: Mapping[int, int], denominations: Iterable[int]) -> int:
    """The value of a cash count: ``{denomination: pieces}``, in minor units."""
    allowed = set(denominations)
    total = 0
    for denomination, pieces in counts.items():
        if denomination not in allowed:
            raise Unprocessable(
                f"{denomination} is not a note or coin of this till; "
                f"use one of {', '.join(str(d) for d in sorted(allowed, reverse=True))}"
            )
        if pieces < 0:
            raise Unprocessable("A count cannot be negative")
        total += denomination * pieces
    return total


@dataclass(frozen=True)
class ShiftPayment:
    amount: int
    method: PaymentMethod
    purpose: PaymentPurpose


@dataclass
class Handover:
    """A shift's figures: sales by method, top-ups, refunds, and the cash that should be
    in the drawer."""

    opening_float: int
    sales: dict[str, int] = field(default_factory=dict)  # time and snacks, by method
    shop_sales: dict[str, int] = field(default_factory=dict)  # of which snacks and drinks
    topups: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)
    payments: int = 0

    @property
    def cash_in(self) -> int:
        cash = PaymentMethod.CASH.value
        return self.sales.get(cash, 0) + self.topups.get(cash, 0)

    @property
    def cash_out(self) -> int:
        return self.refunds.get(PaymentMethod.CASH.value, 0)

    @property
    def expected_cash(self) -> int:
        return self.opening_float + self.cash_in - self.cash_out


_SALES = (
    PaymentPurpose.SESSION_START,
    PaymentPurpose.SESSION_EXTENSION,
    PaymentPurpose.SHOP_SALE,
    PaymentPurpose.GUEST_TICKET,
)


def handover(opening_float: int, payments: Iterable[ShiftPayment]) -> Handover:
    figures = Handover(opening_float)
    for payment in payments:
        figures.payments += 1
        method = payment.method.value
        if payment.purpose in _SALES:
            _add(figures.sales, method, payment.amount)
            if payment.purpose is PaymentPurpose.SHOP_SALE:
                _add(figures.shop_sales, method, payment.amount)
        elif payment.purpose is PaymentPurpose.TOPUP:
            _add(figures.topups, method, payment.amount)
        elif payment.purpose is PaymentPurpose.REFUND:
            _add(figures.refunds, method, payment.amount)
    return figures


def _add(totals: dict[str, int], key: str, amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount
