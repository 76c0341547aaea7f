"""The reservation rules, without I/O: slots, overlaps, holding a PC, no-shows, cancels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gameops.server.errors import Conflict, Unprocessable
from gameops.server.reservations import domain
from gameops.server.reservations.domain import DepositOutcome, ReservationRules
from gameops.server.reservations.domain import ReservationStatus as S

NOW = datetime(2030, 6, 1, 17, 0, tzinfo=UTC)
START = datetime(2030, 6, 1, 18, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
RULES = ReservationRules(
    deposit=500,
    notice=timedelta(minutes=15),
    no_show=timedelta(minutes=10),
    no_show_keeps_deposit=True,
    days_ahead=30,
    max_minutes=240,
    venue_timezone="Europe/Berlin",
    currency="EUR",
)


@pytest.fixture(autouse=True)
def backend() -> str:
    return "sqlite"  # pure: once is enough


def test_slots() -> None:
    domain.check_slot(RULES, START, 60, NOW)
    domain.check_slot(RULES, NOW - timedelta(minutes=5), 15, NOW)  # "from now" at the desk
    for start, minutes, message in [
        (NOW - timedelta(minutes=6), 60, "That time has passed"),
        (START, 14, "A booking is 15 to 240 minutes long"),
        (START, 241, "A booking is 15 to 240 minutes long"),
        (NOW + timedelta(days=30, minutes=1), 60, "Bookings open 30 days ahead"),
    ]:
        with pytest.raises(Unprocessable, match=message):
            domain.check_slot(RULES, start, minutes, NOW)


def test_overlaps_are_half_open() -> None:
    assert domain.overlaps(START, END, START + timedelta(minutes=59), END + timedelta(hours=1))
    assert not domain.overlaps(START, END, END, END + timedelta(hours=1))
    assert not domain.overlaps(START, END, START - timedelta(hours=1), START)


def test_held_from_the_notice_until_the_end_while_booked() -> None:
    def holds(at: datetime, status: S = S.BOOKED) -> bool:
        return domain.holds(status, START, END, RULES.notice, at)

    assert not holds(START - timedelta(minutes=15, seconds=1))
    assert holds(START - timedelta(minutes=15))
    assert holds(END - timedelta(seconds=1))
    assert not holds(END)
    assert not holds(START, S.CHECKED_IN) and not holds(START, S.CANCELLED)


def test_no_show_after_the_deadline_and_the_deposit() -> None:
    assert not domain.no_show_due(S.BOOKED, START, RULES.no_show, START + timedelta(minutes=9))
    assert domain.no_show_due(S.BOOKED, START, RULES.no_show, START + timedelta(minutes=10))
    assert not domain.no_show_due(S.CHECKED_IN, START, RULES.no_show, END)
    assert domain.no_show_outcome(RULES, 500) is DepositOutcome.KEPT
    refunding = ReservationRules(**{**RULES.__dict__, "no_show_keeps_deposit": False})
    assert domain.no_show_outcome(refunding, 500) is DepositOutcome.REFUNDED
    assert domain.no_show_outcome(RULES, 0) is DepositOutcome.NONE


def test_cancel_rules() -> None:
    def cancel(at: datetime, status: S = S.BOOKED, **who: bool) -> DepositOutcome:
        staff, keep = who.get("staff", False), who.get("keep", False)
        return domain.cancel_outcome(status, START, 500, at, by_staff=staff, keep_deposit=keep)

    assert cancel(START - timedelta(seconds=1)) is DepositOutcome.REFUNDED
    with pytest.raises(Conflict, match="has started"):
        cancel(START)
    with pytest.raises(Unprocessable, match="Only staff"):
        cancel(NOW, keep=True)
    assert cancel(START + timedelta(minutes=5), staff=True) is DepositOutcome.REFUNDED
    assert cancel(START, staff=True, keep=True) is DepositOutcome.KEPT
    assert cancel(START, S.CHECKED_IN, staff=True) is DepositOutcome.CREDITED
    with pytest.raises(Conflict, match="no show already"):
        cancel(NOW, S.NO_SHOW, staff=True)


def test_what_the_pc_says_on_the_venues_clock() -> None:
    name = domain.display_name("Ada Lovelace", "ada99")
    assert (name, domain.display_name(None, "ada99"), domain.display_name(" ", "x")) == (
        "Ada",
        "ada99",
        "x",
    )
    assert domain.notice_text(name, START, "Europe/Berlin") == "Reserved for Ada at 20:00"
    assert domain.refusal_text(name, START, "UTC").startswith(
        "This PC is reserved for Ada at 18:00."
    )
