"""The pure pricing maths: rates, time-of-day segments, packages, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from gameops.server.pricing.domain import (
    Package,
    PricePlan,
    Rates,
    TimeRule,
    quote,
    round_half_up,
    rule_at,
)
from gameops.server.sessions.domain import price_minor_units

BASE = Rates(member=480, guest=600)
HAPPY = TimeRule("Happy hour", time(18), time(20), Rates(member=240, guest=300))
NIGHT = TimeRule("Night", time(22), time(6), Rates(member=200, guest=240))
# 2026-11-20 is a Friday.
FRIDAY = datetime(2026, 11, 20, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: datetime = FRIDAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def plan(*rules: TimeRule, packages: tuple[Package, ...] = ()) -> PricePlan:
    return PricePlan("Standard", BASE, rules, packages)


def test_member_and_guest_pay_their_own_base_rate() -> None:
    assert quote(plan(), at(12), 60, member=True, zone=UTC).amount == 480
    assert quote(plan(), at(12), 60, member=False, zone=UTC).amount == 600


@pytest.mark.parametrize("rate", [0, 1, 90, 100, 599, 600, 1250])
@pytest.mark.parametrize("minutes", [1, 7, 29, 30, 61, 1440])
def test_a_flat_rate_prices_like_the_session_rule(rate: int, minutes: int) -> None:
    flat = PricePlan("flat", Rates(rate, rate))
    assert quote(flat, at(3), minutes, member=False, zone=UTC).amount == price_minor_units(
        rate, minutes
    )


def test_round_half_up() -> None:
    assert [round_half_up(Fraction(n, 2)) for n in (1, 2, 3, 5)] == [1, 1, 2, 3]


def test_a_session_crossing_into_happy_hour_is_priced_per_segment() -> None:
    result = quote(plan(HAPPY), at(17, 30), 60, member=False, zone=UTC)
    assert [(s.starts_at, s.ends_at, s.hourly_rate, s.rule, s.amount) for s in result.segments] == [
        (at(17, 30), at(18), 600, None, 300),
        (at(18), at(18, 30), 300, "Happy hour", 150),
    ]
    assert result.amount == result.time_price == 450


def test_a_night_rate_runs_past_midnight_as_one_segment() -> None:
    result = quote(plan(NIGHT), at(21), 10 * 60, member=False, zone=UTC)
    assert [(s.rule, s.minutes, s.amount) for s in result.segments] == [
        (None, 60, 600),
        ("Night", 8 * 60, 8 * 240),
        (None, 60, 600),
    ]
    assert result.amount == 600 + 1920 + 600


def test_weekday_rules_apply_on_their_days_including_after_midnight() -> None:
    friday_late = TimeRule("Friday late", time(22), time(2), Rates(100, 100), frozenset({4}))
    rules = (friday_late,)
    assert rule_at(rules, at(23)) is friday_late
    assert rule_at(rules, at(1, day=FRIDAY + timedelta(days=1))) is friday_late  # Sat 01:00
    assert rule_at(rules, at(23, day=FRIDAY + timedelta(days=1))) is None  # Saturday night
    assert rule_at(rules, at(1)) is None  # Friday 01:00 belongs to Thursday night


def test_rules_are_read_in_the_venue_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in November
    result = quote(plan(HAPPY), at(16, 30), 60, member=False, zone=berlin)
    assert [(s.rule, s.amount) for s in result.segments] == [(None, 300), ("Happy hour", 150)]
    assert result.segments[1].starts_at == at(17)  # 18:00 in Berlin


def test_the_first_listed_rule_wins_where_rules_overlap() -> None:
    cheap = TimeRule("Cheap", time(19), time(21), Rates(50, 50))
    assert quote(plan(HAPPY, cheap), at(19), 60, False, UTC).segments[0].rule == "Happy hour"
    assert quote(plan(cheap, HAPPY), at(19), 60, False, UTC).segments[0].rule == "Cheap"


def test_a_cheaper_package_for_exactly_those_minutes_wins() -> None:
    three_hours = Package("3 hours", 180, 1200)
    result = quote(plan(packages=(three_hours,)), at(12), 180, member=False, zone=UTC)
    assert result.package == three_hours and result.amount == 1200 and result.time_price == 1800
    assert "cheaper" in result.notes[0]
    # Other lengths, and a package dearer than time, leave the time price.
    assert quote(plan(packages=(three_hours,)), at(12), 120, False, UTC).package is None
    dear = Package("3 hours", 180, 2000)
    assert quote(plan(packages=(dear,)), at(12), 180, False, UTC).amount == 1800


def test_members_only_packages() -> None:
    members = Package("Members 2h", 120, 700, members_only=True)
    assert quote(plan(packages=(members,)), at(12), 120, True, UTC).amount == 700
    assert quote(plan(packages=(members,)), at(12), 120, False, UTC).amount == 1200


def test_segment_amounts_always_add_up_to_the_rounded_total() -> None:
    odd = TimeRule("odd", time(12, 7), time(12, 20), Rates(77, 77))
    odd_plan = PricePlan("odd", Rates(101, 101), (odd,))
    start = at(11, 53) + timedelta(seconds=17, microseconds=5)
    for minutes in range(1, 200, 7):
        result = quote(odd_plan, start, minutes, member=False, zone=UTC)
        exact = sum(
            Fraction(s.hourly_rate * int((s.ends_at - s.starts_at) / timedelta(microseconds=1)))
            / 3_600_000_000
            for s in result.segments
        )
        assert sum(s.amount for s in result.segments) == result.amount == round_half_up(exact)
        assert result.segments[-1].ends_at == start + timedelta(minutes=minutes)
