"""Session rules: prices, durations, end times. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gameops.server.errors import BadRequest, Unprocessable


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    EXPIRED = "EXPIRED"
    # Card sessions wait here until paid; the station is held for them meanwhile.
    PENDING_PAYMENT = "PENDING_PAYMENT"
    # A pending session that was never paid.
    CANCELLED = "CANCELLED"


# A PC that takes its session within this of the sale keeps the sale's times (it was on).
CLOCK_SLACK = timedelta(seconds=2)


class EndReason(StrEnum):
    MANUAL_STOP = "manual_stop"
    EXPIRED = "expired"
    # Given back whole: the PC never took the session (shifts.repository.VOIDED).
    VOIDED = "voided"


def price_minor_units(hourly_rate: int, minutes: int) -> int:
    """Price of ``minutes`` at ``hourly_rate`` (minor units), rounded half up to a unit."""
    return (hourly_rate * minutes + 30) // 60


def check_duration(minutes: int, maximum: int, what: str = "duration_minutes") -> None:
    if minutes <= 0:
        raise Unprocessable(f"{what} must be a positive number of minutes")
    if minutes > maximum:
        raise Unprocessable(f"{what} must be at most {maximum} minutes")


def check_extension(
    status: SessionStatus, booked_minutes: int, additional: int, maximum: int
) -> None:
    check_duration(additional, maximum, "additional_minutes")
    if status is not SessionStatus.ACTIVE:
        raise BadRequest("Cannot extend inactive session")
    if booked_minutes + additional > maximum:
        raise Unprocessable(
            f"a session may last at most {maximum} minutes; "
            f"{booked_minutes} are booked, {maximum - booked_minutes} can be added"
        )


def scheduled_end(started_at: datetime, booked_minutes: int) -> datetime:
    return started_at + timedelta(minutes=booked_minutes)


def seconds_left(scheduled_end_at: datetime, now: datetime) -> float:
    return max(0.0, (scheduled_end_at - now).total_seconds())


def unused_share(paid: int, started_at: datetime, ends_at: datetime, stopped_at: datetime) -> int:
    """The part of ``paid`` for the booked time not used, pro rata to the microsecond and
    rounded down, so a refund never exceeds what was paid for the time left."""
    booked = ends_at - started_at
    left = min(max(ends_at - stopped_at, timedelta(0)), booked)
    if booked <= timedelta(0):
        return 0
    return paid * (left // timedelta(microseconds=1)) // (booked // timedelta(microseconds=1))


class RefundWay(StrEnum):
    NONE = "none"
    BALANCE = "balance"
    CASH = "cash"


@dataclass(frozen=True)
class StopRefund:
    """What an early stop gives back: how much, which way, and why, in plain words."""

    amount: int
    way: RefundWay
    unused_seconds: int
    reason: str


def stop_refund(
    mode: str,
    paid: int,
    started_at: datetime,
    ends_at: datetime,
    stopped_at: datetime,
    *,
    has_customer: bool,
) -> StopRefund:
    """The refund of stopping at ``stopped_at``, per the venue's ``stop_refund`` mode.
    A guest has no balance: in balance mode a guest gets nothing back."""
    unused = int(max(ends_at - max(stopped_at, started_at), timedelta(0)).total_seconds())
    amount = unused_share(paid, started_at, ends_at, stopped_at)
    way = RefundWay(mode)
    if way is RefundWay.NONE:
        return StopRefund(0, way, unused, "This venue does not refund unused time.")
    if way is RefundWay.BALANCE and not has_customer:
        return StopRefund(0, RefundWay.NONE, unused, "A guest has no balance to refund to.")
    if amount <= 0:
        return StopRefund(0, RefundWay.NONE, unused, "No paid time is left to refund.")
    if way is RefundWay.BALANCE:
        return StopRefund(amount, way, unused, "The unused time goes back to the balance.")
    return StopRefund(amount, way, unused, "The unused time is paid back in cash.")
