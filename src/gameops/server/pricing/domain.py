"""Pricing maths. Pure: no I/O, no clock; every input is explicit, so each rule is testable.

A price is the time-based price of each segment of the booked interval, where a segment
is a stretch during which one rate applies (the plan's base rate or a time-of-day rule's),
unless a package for exactly that many minutes is cheaper. Exact sums are kept as
fractions of a minor unit and rounded once, half up; segment amounts are rounded
cumulatively so that they always add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction

MICROS_PER_HOUR = 3_600_000_000
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Rates:
    """Hourly rates in minor units."""

    member: int
    guest: int

    def hourly(self, member: bool) -> int:
        return self.member if member else self.guest


@dataclass(frozen=True)
class TimeRule:
    """A rate for a daily window of local time (happy hour, night rate).

    ``end`` at or before ``start`` means the window runs past midnight. ``days`` are the
    weekdays (0 = Monday) on which the window *starts*; empty means every day."""

    name: str
    start: time
    end: time
    rates: Rates
    days: frozenset[int] = frozenset()

    def covers(self, local: datetime) -> bool:
        clock, weekday = local.time().replace(tzinfo=None), local.weekday()
        if self.start < self.end:
            return self.start <= clock < self.end and self._on(weekday)
        if clock >= self.start:
            return self._on(weekday)
        return clock < self.end and self._on((weekday - 1) % 7)

    def _on(self, weekday: int) -> bool:
        return not self.days or weekday in self.days


@dataclass(frozen=True)
class Package:
    """A fixed price for exactly ``minutes`` (e.g. 3 hours for 1,200)."""

    name: str
    minutes: int
    price: int
    members_only: bool = False

    def available_to(self, member: bool) -> bool:
        return member or not self.members_only


@dataclass(frozen=True)
class PricePlan:
    name: str
    rates: Rates
    rules: tuple[TimeRule, ...] = ()
    packages: tuple[Package, ...] = ()


@dataclass(frozen=True)
class Segment:
    starts_at: datetime
    ends_at: datetime
    hourly_rate: int
    rule: str | None
    amount: int

    @property
    def minutes(self) -> float:
        return (self.ends_at - self.starts_at) / timedelta(minutes=1)


@dataclass(frozen=True)
class Quote:
    plan: str
    member: bool
    minutes: int
    starts_at: datetime
    ends_at: datetime
    segments: tuple[Segment, ...]
    time_price: int
    package: Package | None = None
    notes: tuple[str, ...] = field(default=())
    # Prices entered net (GAMEOPS_PRICES_INCLUDE_TAX=false): the tax added on top.
    tax_added: int = 0

    @property
    def amount(self) -> int:
        return (self.package.price if self.package else self.time_price) + self.tax_added


def quote(plan: PricePlan, starts_at: datetime, minutes: int, member: bool, zone: tzinfo) -> Quote:
    """The price of ``minutes`` from ``starts_at`` (aware) for a member or a guest, with
    time-of-day rules read in the venue's time ``zone``."""
    ends_at = starts_at + timedelta(minutes=minutes)
    stretches = _stretches(plan, starts_at, ends_at, member, zone)
    segments = _priced(stretches)
    time_price = sum(s.amount for s in segments)
    package = best_package(plan.packages, minutes, member, time_price)
    notes = (f"package {package.name!r} is cheaper than {time_price}",) if package else ()
    return Quote(
        plan.name, member, minutes, starts_at, ends_at, segments, time_price, package, notes
    )


def best_package(
    packages: tuple[Package, ...], minutes: int, member: bool, time_price: int
) -> Package | None:
    """The cheapest package for exactly ``minutes``, if it beats the time price."""
    fitting = [p for p in packages if p.minutes == minutes and p.available_to(member)]
    cheapest = min(fitting, key=lambda p: p.price, default=None)
    return cheapest if cheapest is not None and cheapest.price < time_price else None


def round_half_up(value: Fraction) -> int:
    return int((value + Fraction(1, 2)).__floor__())


def rule_at(rules: tuple[TimeRule, ...], local: datetime) -> TimeRule | None:
    """The rule in force at ``local``: the first listed one that covers it."""
    return next((rule for rule in rules if rule.covers(local)), None)


_Stretch = tuple[datetime, datetime, int, str | None]


def _stretches(
    plan: PricePlan, starts_at: datetime, ends_at: datetime, member: bool, zone: tzinfo
) -> list[_Stretch]:
    """Cut [starts_at, ends_at) wherever the rate may change; merge equal neighbours."""
    out: list[_Stretch] = []
    cursor = starts_at
    while cursor < ends_at:
        local = cursor.astimezone(zone)
        rule = rule_at(plan.rules, local)
        rate = rule.rates.hourly(member) if rule else plan.rates.hourly(member)
        cut = min(ends_at, next_change(plan.rules, local).astimezone(starts_at.tzinfo))
        name = rule.name if rule else None
        if out and out[-1][2:] == (rate, name):
            out[-1] = (out[-1][0], cut, rate, name)
        else:
            out.append((cursor, cut, rate, name))
        cursor = cut
    return out


def next_change(rules: tuple[TimeRule, ...], local: datetime) -> datetime:
    """The first local midnight or rule edge after ``local`` (always later than it): the
    next moment the rate in force may change."""
    zone = local.tzinfo
    day = local.date()
    edges = {time(0)} | {rule.start for rule in rules} | {rule.end for rule in rules}
    candidates = (
        _at(day + timedelta(days=offset), edge, zone) for offset in (0, 1) for edge in edges
    )
    return min(c for c in candidates if c > local)


def _at(day: date, clock: time, zone: tzinfo | None) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _priced(stretches: list[_Stretch]) -> tuple[Segment, ...]:
    segments, exact_so_far, charged_so_far = [], Fraction(0), 0
    for start, end, rate, rule in stretches:
        exact_so_far += Fraction(rate * ((end - start) // ONE_MICROSECOND), MICROS_PER_HOUR)
        amount = round_half_up(exact_so_far) - charged_so_far
        charged_so_far += amount
        segments.append(Segment(start, end, rate, rule, amount))
    return tuple(segments)
