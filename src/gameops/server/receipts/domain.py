"""What a receipt says: its lines and tax lines. Pure: no I/O.

A receipt is issued for every completed sale, extension, top-up, refund and snack sale.
Its words are in the venue's language, fixed when it is issued (it is a copy of what the
customer was given). Play time and snacks carry tax; a top-up does not (it is a
prepayment: the tax is on the play it pays for, shown on that sale's receipt). A refund's
lines are negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from gameops.server.payments.domain import PaymentPurpose
from gameops.server.tax.domain import tax_lines


class ReceiptKind(StrEnum):
    SALE = "SALE"
    EXTENSION = "EXTENSION"
    TOPUP = "TOPUP"
    REFUND = "REFUND"
    SHOP = "SHOP"


KIND_OF = {
    PaymentPurpose.SESSION_START: ReceiptKind.SALE,
    PaymentPurpose.SESSION_EXTENSION: ReceiptKind.EXTENSION,
    PaymentPurpose.TOPUP: ReceiptKind.TOPUP,
    PaymentPurpose.REFUND: ReceiptKind.REFUND,
    PaymentPurpose.SHOP_SALE: ReceiptKind.SHOP,
    PaymentPurpose.GUEST_TICKET: ReceiptKind.SALE,  # play time on a ticket, sold at the desk
}


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price: int
    amount: int
    rate_bp: int | None  # None: not taxed (a top-up)


Words = Callable[..., str]  # a catalogue lookup: words("receipt.line_SALE", minutes=60)


def time_line(
    words: Words, kind: ReceiptKind, minutes: int, station: str | None, amount: int, rate: int
) -> Line:
    where = words("receipt.on_station", station=station) if station else ""
    text = words(f"receipt.line_{kind.value}", minutes=minutes, where=where).strip()
    sign = -1 if kind is ReceiptKind.REFUND else 1
    return Line(text, 1, sign * amount, sign * amount, rate)


def topup_line(words: Words, amount: int) -> Line:
    return Line(words("receipt.line_TOPUP"), 1, amount, amount, None)


def taxes(lines: Sequence[Line]) -> list[dict[str, Any]]:
    taxed = [(line.amount, line.rate_bp) for line in lines if line.rate_bp is not None]
    return [asdict(t) for t in tax_lines(taxed)]


def stored(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [asdict(line) for line in lines]
