"""The small POS's rules. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from gameops.server.errors import Unprocessable
from gameops.server.tax.domain import gross_price


@dataclass(frozen=True)
class Item:
    """A product line as charged: unit price gross (tax included)."""

    name: str
    quantity: int
    unit_price: int
    tax_rate_bp: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


def item(name: str, quantity: int, price: int, rate_bp: int, *, includes_tax: bool) -> Item:
    if quantity <= 0:
        raise Unprocessable("Sell at least one of each product")
    return Item(name, quantity, gross_price(price, rate_bp, includes_tax=includes_tax), rate_bp)
