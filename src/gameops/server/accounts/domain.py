"""Prepaid balance rules. Pure: no I/O."""

from __future__ import annotations

from enum import StrEnum

from gameops.server.errors import Unprocessable
from gameops.server.events.domain import EventType


class LedgerKind(StrEnum):
    TOPUP = "TOPUP"
    DEBIT = "DEBIT"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


def check_positive(amount: int, what: str = "amount") -> None:
    if amount <= 0:
        raise Unprocessable(f"{what} must be a positive number of minor units")


def check_amount(amount: int, maximum: int, what: str = "amount") -> None:
    """At most ``maximum`` minor units (GAMEOPS_MAX_AMOUNT) either way."""
    if abs(amount) > maximum:
        raise Unprocessable(
            f"{what} is over the maximum of {maximum} minor units (GAMEOPS_MAX_AMOUNT)",
            maximum=maximum,
        )


def check_currency(currency: str | None, venue_currency: str) -> None:
    """Money is kept in one currency per venue: anything else is refused, not converted."""
    if currency is not None and currency != venue_currency:
        raise Unprocessable(f"Unknown currency {currency!r}; this venue takes {venue_currency}")


def event_for(kind: LedgerKind) -> EventType:
    return _EVENTS[kind]


_EVENTS = {
    LedgerKind.TOPUP: EventType.BALANCE_TOPUP,
    LedgerKind.DEBIT: EventType.BALANCE_DEBIT,
    LedgerKind.REFUND: EventType.BALANCE_REFUND,
    LedgerKind.ADJUSTMENT: EventType.BALANCE_ADJUSTED,
}
