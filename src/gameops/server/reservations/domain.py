"""Reservation rules. Pure: no I/O, no clock; every input explicit.

A member books a PC for ``[starts_at, ends_at)``. While the booking is BOOKED the PC is
*held* for them from ``notice`` before the start: its login view says "Reserved for Ada at
18:00" and only Ada may log in there. Logging in there checks the booking in and credits
its deposit against play. Nobody by ``no_show`` after the start: the booking is released
(NO_SHOW) and the deposit kept or refunded, as the venue chose.

Cancelling: the member may cancel their own booking until it starts, and gets the deposit
back; staff may cancel any active booking at any time, and the deposit goes back unless they
choose to keep it. Two active bookings of one PC never overlap: the database refuses it
(an exclusion constraint on PostgreSQL, a trigger on SQLite; see the 0100 migration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from gameops.server.errors import Conflict, Unprocessable
from gameops.server.stations.domain import StationType

# A booking "from now" made at the desk may start up to this long ago (the form's minute).
START_SLACK = timedelta(minutes=5)
MIN_MINUTES = 15


class ReservationStatus(StrEnum):
    BOOKED = "BOOKED"  # waiting for the member
    CHECKED_IN = "CHECKED_IN"  # the member logged in at the PC
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"  # released: nobody came


# What may be booked ahead: a PC (held at its login view) or a console (held at the desk:
# staff start its sessions). "Any PC in a zone" picks among the zone's PCs only.
BOOKABLE = frozenset({StationType.PC, StationType.CONSOLE})

# The statuses that hold the slot: the overlap constraint covers exactly these.
ACTIVE = frozenset({ReservationStatus.BOOKED, ReservationStatus.CHECKED_IN})


class DepositOutcome(StrEnum):
    HELD = "HELD"  # taken at booking, not settled yet
    CREDITED = "CREDITED"  # credited against play at check-in
    REFUNDED = "REFUNDED"  # back on the balance (cancelled, or a no-show the venue refunds)
    KEPT = "KEPT"  # a no-show's deposit the venue keeps (or staff kept at a cancel)
    NONE = "NONE"  # no deposit was taken


@dataclass(frozen=True)
class ReservationRules:
    deposit: int
    notice: timedelta
    no_show: timedelta
    no_show_keeps_deposit: bool
    days_ahead: int
    max_minutes: int
    venue_timezone: str
    currency: str


def check_slot(rules: ReservationRules, starts_at: datetime, minutes: int, now: datetime) -> None:
    """A slot one may book at ``now``; raises Unprocessable (422) saying what is wrong."""
    if starts_at.tzinfo is None:
        raise Unprocessable("starts_at needs a time zone (e.g. 2026-12-01T18:00:00Z)")
    check_length(rules, minutes)
    if starts_at < now - START_SLACK:
        raise Unprocessable("That time has passed")
    if starts_at > now + timedelta(days=rules.days_ahead):
        raise Unprocessable(f"Bookings open {rules.days_ahead} days ahead", days=rules.days_ahead)


def check_length(rules: ReservationRules, minutes: int) -> None:
    if not MIN_MINUTES <= minutes <= rules.max_minutes:
        raise Unprocessable(
            f"A booking is {MIN_MINUTES} to {rules.max_minutes} minutes long",
            minimum=MIN_MINUTES,
            maximum=rules.max_minutes,
        )


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: one ending at 18:00 and the next starting then do not overlap."""
    return a_start < b_end and b_start < a_end


def holds(
    status: ReservationStatus,
    starts_at: datetime,
    ends_at: datetime,
    notice: timedelta,
    now: datetime,
) -> bool:
    """Whether a booking keeps its PC for its member at ``now`` (the login gate)."""
    return status is ReservationStatus.BOOKED and starts_at - notice <= now < ends_at


def no_show_due(
    status: ReservationStatus, starts_at: datetime, no_show: timedelta, now: datetime
) -> bool:
    return status is ReservationStatus.BOOKED and now >= starts_at + no_show


def no_show_outcome(rules: ReservationRules, deposit: int) -> DepositOutcome:
    if deposit == 0:
        return DepositOutcome.NONE
    return DepositOutcome.KEPT if rules.no_show_keeps_deposit else DepositOutcome.REFUNDED


def cancel_outcome(
    status: ReservationStatus,
    starts_at: datetime,
    deposit: int,
    now: datetime,
    *,
    by_staff: bool,
    keep_deposit: bool = False,
) -> DepositOutcome:
    """What becomes of the deposit when the booking is cancelled; refuses what may not be."""
    if status not in ACTIVE:
        raise Conflict(f"This booking is {status.value.lower().replace('_', ' ')} already")
    if not by_staff:
        if keep_deposit:
            raise Unprocessable("Only staff may keep a deposit")
        if now >= starts_at:
            raise Conflict("The booking has started; please ask at the front desk")
    if status is ReservationStatus.CHECKED_IN:
        return DepositOutcome.CREDITED  # spent on play already: nothing to give back
    if deposit == 0:
        return DepositOutcome.NONE
    return DepositOutcome.KEPT if keep_deposit else DepositOutcome.REFUNDED


def check_move(
    status: ReservationStatus, starts_at: datetime, now: datetime, *, by_staff: bool
) -> None:
    """Whether the booking may be moved: only while it waits (BOOKED); a member only until
    it starts, as for cancelling. The new slot is checked like a new booking's."""
    if status is not ReservationStatus.BOOKED:
        state = status.value.lower().replace("_", " ")
        raise Conflict(f"This booking is {state}; it cannot be moved")
    if not by_staff and now >= starts_at:
        raise Conflict("The booking has started; please ask at the front desk")


def local_clock(moment: datetime, timezone: str) -> str:
    """``18:00`` on the venue's clock."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def notice_text(name: str, starts_at: datetime, timezone: str) -> str:
    return f"Reserved for {name} at {local_clock(starts_at, timezone)}"


def refusal_text(name: str, starts_at: datetime, timezone: str) -> str:
    return (
        f"This PC is reserved for {name} at {local_clock(starts_at, timezone)}. "
        "Please use another PC or ask at the front desk."
    )


def display_name(full_name: str | None, username: str) -> str:
    """What the PC shows: the first name when known (others walk past the screen)."""
    first = (full_name or "").strip().split(" ")[0]
    return first or username
