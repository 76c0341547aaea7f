"""Tax (VAT, sales tax) on what a venue sells. Pure: no I/O.

Rates are in basis points (2000 = 20 %). A price is entered gross (tax included, usual for
consumers in Europe) or net (tax added on top). What the customer pays is always the gross;
a receipt splits each line's gross into net and tax, rounded half up to a minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BASIS = 10_000


def gross_price(price: int, rate_bp: int, *, includes_tax: bool) -> int:
    """What the customer pays for ``price`` as entered."""
    if includes_tax:
        return price
    return price + _round_half_up(price * rate_bp, BASIS)


def tax_in(gross: int, rate_bp: int) -> int:
    """The tax inside ``gross`` (signed amounts work: a refund carries negative tax)."""
    sign = -1 if gross < 0 else 1
    return sign * _round_half_up(abs(gross) * rate_bp, BASIS + rate_bp)


@dataclass(frozen=True)
class TaxLine:
    rate_bp: int
    net: int
    tax: int
    gross: int


def tax_lines(items: Iterable[tuple[int, int]]) -> list[TaxLine]:
    """One line per rate over ``(gross, rate_bp)`` items, highest rate first. Each rate's
    tax is taken from its total, so the lines add up to the items to the minor unit."""
    totals: dict[int, int] = {}
    for gross, rate_bp in items:
        totals[rate_bp] = totals.get(rate_bp, 0) + gross
    lines = []
    for rate_bp in sorted(totals, reverse=True):
        gross = totals[rate_bp]
        tax = tax_in(gross, rate_bp)
        lines.append(TaxLine(rate_bp=rate_bp, net=gross - tax, tax=tax, gross=gross))
    return lines


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)
