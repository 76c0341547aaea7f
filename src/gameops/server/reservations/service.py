"""The use cases of reservations: book, cancel, admit at the PC and check in, announce,
release no-shows. Each runs in the caller's transaction and takes ``now`` from it (the
worker passes its clock's time; tests pass any)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.accounts import service as accounts
from gameops.server.accounts.domain import LedgerKind
from gameops.server.db.models import Reservation, Station, User
from gameops.server.errors import Conflict, Forbidden, NotFound, Unprocessable
from gameops.server.events.base import record
from gameops.server.reservations import domain, repository
from gameops.server.reservations.domain import (
    DepositOutcome,
    ReservationRules,
    ReservationStatus,
)
from gameops.server.reservations.events import (
    ReservationBooked,
    ReservationCancelled,
    ReservationCheckedIn,
    ReservationHeld,
    ReservationMoved,
    ReservationOverridden,
    ReservationReleased,
)
from gameops.server.reservations.schemas import ReservationCreate, ReservationMove
from gameops.server.sessions import repository as sessions
from gameops.server.settings import Settings
from gameops.server.stations import service as stations
from gameops.server.users.domain import Role


def rules_from_settings(settings: Settings) -> ReservationRules:
    return ReservationRules(
        deposit=settings.reservation_deposit,
        notice=timedelta(minutes=settings.reservation_notice_minutes),
        no_show=timedelta(minutes=settings.reservation_no_show_minutes),
        no_show_keeps_deposit=settings.reservation_no_show_keeps_deposit,
        days_ahead=settings.reservation_days_ahead,
        max_minutes=settings.max_session_minutes,
        venue_timezone=settings.venue_timezone,
        currency=settings.currency,
    )


class HeldForAnother(Exception):
    """The PC is held for another member's booking now: ``message`` is for the login view."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- booking ------------------------------------------------------------------------------


async def book(
    db: AsyncSession, rules: ReservationRules, actor: User, body: ReservationCreate, now: datetime
) -> tuple[Reservation, Station]:
    """Book the PC (or a free one in the zone) and take the deposit from the balance."""
    customer = await _customer_for(db, actor, body.user_id)
    domain.check_slot(rules, body.starts_at, body.minutes, now)
    starts_at = body.starts_at.astimezone(now.tzinfo)
    ends_at = starts_at + timedelta(minutes=body.minutes)
    booking: dict[str, Any] = {
        "user_id": customer.id,
        "zone": body.zone,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": ReservationStatus.BOOKED,
        "deposit": rules.deposit,
        "deposit_outcome": DepositOutcome.HELD if rules.deposit else DepositOutcome.NONE,
        "created_by": actor.id,
    }
    reservation, station = await _take_slot(db, booking, await _candidates(db, body))
    if rules.deposit:
        reason = f"reservation deposit, {station.name}"
        await _move_deposit(db, rules.currency, reservation, customer, reason, actor.id, take=True)
    about = _about(reservation, customer, actor.id)
    record(db, ReservationBooked(**about, deposit=reservation.deposit, zone=reservation.zone))
    if _window_open(rules, reservation, now):
        announce(db, reservation, customer, now)
    return reservation, station


async def _take_slot(
    db: AsyncSession, booking: dict[str, Any], candidates: list[Station]
) -> tuple[Reservation, Station]:
    """``booking`` on the first of ``candidates`` the database takes it for; the others
    (a zone's PCs that another booking took meanwhile) are refused by the constraint."""
    for station in candidates:
        reservation = Reservation(id=uuid.uuid4(), station_id=station.id, **booking)
        if await repository.insert(db, reservation):
            return reservation, station
    zone, starts_at = booking["zone"], booking["starts_at"]
    taken = f"No PC in {zone!r} is free" if zone else f"{candidates[0].name} is booked"
    raise Conflict(f"{taken} then; choose another time", starts_at=starts_at.isoformat())


async def _customer_for(db: AsyncSession, actor: User, user_id: uuid.UUID | None) -> User:
    if actor.role is Role.CUSTOMER:
        if user_id not in (None, actor.id):
            raise Forbidden("A member books for themselves")
        customer = await db.get(User, actor.id)
    elif user_id is None:
        raise Unprocessable("user_id: the customer to book for")
    else:
        customer = await accounts.get_customer(db, user_id)
    if customer is None or not customer.is_active:
        raise Unprocessable("This customer account is disabled")
    return customer


async def _candidates(db: AsyncSession, body: ReservationCreate) -> list[Station]:
    if body.station_id is not None:
        station = await stations.get_station(db, body.station_id)
        if station.type not in domain.BOOKABLE:
            raise Unprocessable("This station cannot be booked ahead")
        return [station]
    assert body.zone is not None
    ends_at = body.starts_at + timedelta(minutes=body.minutes)
    free = list(await repository.free_pcs_in_zone(db, body.zone, body.starts_at, ends_at))
    if not free:
        raise Conflict(f"No PC in {body.zone!r} is free then; choose another time")
    return free


# --- moving -------------------------------------------------------------------------------


async def move(
    db: AsyncSession,
    rules: ReservationRules,
    actor: User,
    reservation_id: uuid.UUID,
    body: ReservationMove,
    now: datetime,
) -> tuple[Reservation, Station]:
    """Move a waiting booking to another time and/or station; the deposit stays as it is."""
    reservation = await repository.lock(db, reservation_id)
    by_staff = actor.role is not Role.CUSTOMER
    if reservation is None or (not by_staff and reservation.user_id != actor.id):
        raise NotFound("Reservation not found")
    domain.check_move(reservation.status, reservation.starts_at, now, by_staff=by_staff)
    was = (reservation.station_id, reservation.starts_at, reservation.ends_at)
    minutes = body.minutes or int((was[2] - was[1]).total_seconds() // 60)
    starts_at = (body.starts_at or was[1]).astimezone(now.tzinfo)
    if starts_at == was[1]:  # staff may move a started booking to another PC, or shorten it
        domain.check_length(rules, minutes)
    else:
        domain.check_slot(rules, starts_at, minutes, now)
    ends_at = starts_at + timedelta(minutes=minutes)
    station = await _move_to(db, reservation, body.station_id, starts_at, ends_at)
    reservation.zone = reservation.zone if station.zone == reservation.zone else None
    reservation.announced_at = now if _window_open(rules, reservation, now) else None
    customer = await accounts.get_customer(db, reservation.user_id)
    about = _about(reservation, customer, actor.id)
    record(
        db,
        ReservationMoved(
            **about,
            from_station_id=was[0],
            from_starts_at=was[1],
            from_ends_at=was[2],
            by_staff=by_staff,
        ),
    )
    return reservation, station


async def _move_to(
    db: AsyncSession,
    reservation: Reservation,
    station_id: uuid.UUID | None,
    starts_at: datetime,
    ends_at: datetime,
) -> Station:
    """The booking on the station asked for, or its own; a zone booking moved in time tries
    its zone's other free PCs (by name) when its own is taken then."""
    if station_id is not None:
        candidates = [await stations.get_station(db, station_id)]
        if candidates[0].type not in domain.BOOKABLE:
            raise Unprocessable("This station cannot be booked ahead")
    else:
        candidates = [await stations.get_station(db, reservation.station_id)]
        if reservation.zone is not None:
            free = await repository.free_pcs_in_zone(db, reservation.zone, starts_at, ends_at)
            candidates += [pc for pc in free if pc.id != reservation.station_id]
    for station in candidates:
        if await repository.move(db, reservation, station.id, starts_at, ends_at):
            return station
    zone = reservation.zone if station_id is None else None
    taken = f"No PC in {zone!r} is free" if zone else f"{candidates[0].name} is booked"
    raise Conflict(f"{taken} then; choose another time", starts_at=starts_at.isoformat())


# --- cancelling ---------------------------------------------------------------------------


async def cancel(
    db: AsyncSession,
    rules: ReservationRules,
    actor: User,
    reservation_id: uuid.UUID,
    keep_deposit: bool,
    now: datetime,
) -> Reservation:
    reservation = await repository.lock(db, reservation_id)
    by_staff = actor.role is not Role.CUSTOMER
    if reservation is None or (not by_staff and reservation.user_id != actor.id):
        raise NotFound("Reservation not found")
    outcome = domain.cancel_outcome(
        reservation.status,
        reservation.starts_at,
        reservation.deposit,
        now,
        by_staff=by_staff,
        keep_deposit=keep_deposit,
    )
    customer = await accounts.get_customer(db, reservation.user_id)
    if outcome is DepositOutcome.REFUNDED:
        reason = "reservation cancelled: deposit refunded"
        await _move_deposit(db, rules.currency, reservation, customer, reason, actor.id)
    _close(reservation, ReservationStatus.CANCELLED, outcome, now, actor.id)
    about = _about(reservation, customer, actor.id)
    record(
        db,
        ReservationCancelled(
            **about, deposit=reservation.deposit, outcome=outcome, by_staff=by_staff
        ),
    )
    return reservation


async def release_at_desk(
    db: AsyncSession,
    rules: ReservationRules,
    reservation: Reservation,
    member: User,
    sale: tuple[str, uuid.UUID],
    keep_deposit: bool,
    actor_id: uuid.UUID,
    now: datetime,
) -> DepositOutcome:
    """Staff sold the held station to someone else (``sale``: whom, the session) and
    confirmed it: the booking is released, its deposit refunded unless they keep it."""
    outcome = domain.cancel_outcome(
        reservation.status,
        reservation.starts_at,
        reservation.deposit,
        now,
        by_staff=True,
        keep_deposit=keep_deposit,
    )
    if outcome is DepositOutcome.REFUNDED:
        reason = "reservation released at the desk: deposit refunded"
        await _move_deposit(db, rules.currency, reservation, member, reason, actor_id)
    _close(reservation, ReservationStatus.CANCELLED, outcome, now, actor_id)
    sold_to, session_id = sale
    about = {**_about(reservation, member, actor_id), "session_id": session_id}
    record(
        db,
        ReservationOverridden(
            **about, deposit=reservation.deposit, outcome=outcome, sold_to=sold_to
        ),
    )
    return outcome


# --- at the PC ----------------------------------------------------------------------------


async def admit(
    db: AsyncSession,
    rules: ReservationRules,
    station_id: uuid.UUID,
    user_id: uuid.UUID | None,
    now: datetime,
) -> Reservation | None:
    """Who may log in at the PC now. The member's own booking holding it: returned (check it
    in once the login succeeds); another's: :class:`HeldForAnother`; none: None."""
    held = await notice(db, rules, station_id, now)
    if held is None:
        return None
    name, booking = held
    if booking.user_id != user_id:
        raise HeldForAnother(domain.refusal_text(name, booking.starts_at, rules.venue_timezone))
    return booking


async def check_in(
    db: AsyncSession,
    reservation: Reservation,
    customer: User,
    session_id: uuid.UUID,
    now: datetime,
    currency: str,
    actor_id: uuid.UUID | None = None,
) -> int:
    """The member logged in at their booked PC (or staff sold them time there at the desk,
    ``actor_id``): the deposit is credited to the balance (one ledger entry), just before
    play is charged. Returns what was credited."""
    actor_id = actor_id or customer.id
    credited = creditable(reservation)
    if credited:
        reason = "reservation deposit credited against play"
        await _move_deposit(db, currency, reservation, customer, reason, actor_id, session_id)
        reservation.deposit_outcome = DepositOutcome.CREDITED
    reservation.status = ReservationStatus.CHECKED_IN
    reservation.checked_in_at, reservation.session_id = now, session_id
    about = _about(reservation, customer, actor_id)
    record(db, ReservationCheckedIn(**about, credited=credited))
    return credited


def creditable(reservation: Reservation) -> int:
    """What checking in credits: the deposit, while it is held."""
    return reservation.deposit if reservation.deposit_outcome is DepositOutcome.HELD else 0


async def notice(
    db: AsyncSession, rules: ReservationRules, station_id: uuid.UUID, now: datetime
) -> tuple[str, Reservation] | None:
    """What the PC's login view says of the booking holding it now, if any."""
    held = await repository.holding(db, station_id, now, rules.notice)
    if held is None:
        return None
    customer = await accounts.get_customer(db, held.user_id)
    name = domain.display_name(customer.full_name, customer.username)
    return name, held


async def notices(
    db: AsyncSession, rules: ReservationRules, station_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[str, Reservation]]:
    """``notice`` of many stations at once: one query (and one per station held)."""
    held = await repository.holding_many(db, station_ids, now, rules.notice)
    found: dict[uuid.UUID, tuple[str, Reservation]] = {}
    for station_id, reservation in held.items():
        customer = await accounts.get_customer(db, reservation.user_id)
        found[station_id] = domain.display_name(customer.full_name, customer.username), reservation
    return found


# --- the worker's steps -------------------------------------------------------------------

# One step of the worker for one booking: True if it changed it.
Step = Callable[[AsyncSession, ReservationRules, uuid.UUID, datetime], Awaitable[bool]]


def announce(db: AsyncSession, reservation: Reservation, customer: User, now: datetime) -> None:
    reservation.announced_at = now
    record(db, ReservationHeld(**_about(reservation, customer, None), held_at=now))


async def announce_due(
    db: AsyncSession, rules: ReservationRules, reservation_id: uuid.UUID, now: datetime
) -> bool:
    """The booking's notice window opened: its PC is held from now (and says so)."""
    reservation = await repository.lock(db, reservation_id)
    if reservation is None or reservation.announced_at is not None:
        return False
    if not _window_open(rules, reservation, now):
        return False
    announce(db, reservation, await accounts.get_customer(db, reservation.user_id), now)
    return True


async def release_no_show(
    db: AsyncSession, rules: ReservationRules, reservation_id: uuid.UUID, now: datetime
) -> bool:
    """Nobody logged in by the deadline: free the PC, keep or refund the deposit. A member
    playing at the PC already (logged in before it was held) is checked in instead."""
    reservation = await repository.lock(db, reservation_id)
    if reservation is None:
        return False
    if not domain.no_show_due(reservation.status, reservation.starts_at, rules.no_show, now):
        return False  # checked in or cancelled meanwhile, or another replica released it
    customer = await accounts.get_customer(db, reservation.user_id)
    playing = await sessions.active_on_station(db, reservation.station_id)
    if playing is not None and playing.user_id == reservation.user_id:
        # Logged in there before the PC was held (or sold the time at the desk): here.
        await check_in(db, reservation, customer, playing.id, now, rules.currency)
        return False
    outcome = domain.no_show_outcome(rules, reservation.deposit)
    if outcome is DepositOutcome.REFUNDED:
        reason = "reservation no-show: deposit refunded"
        await _move_deposit(db, rules.currency, reservation, customer, reason, None)
    _close(reservation, ReservationStatus.NO_SHOW, outcome, now, None)
    about = _about(reservation, customer, None)
    record(db, ReservationReleased(**about, deposit=reservation.deposit, outcome=outcome))
    return True


# --- helpers ------------------------------------------------------------------------------


def _window_open(rules: ReservationRules, reservation: Reservation, now: datetime) -> bool:
    return domain.holds(
        reservation.status, reservation.starts_at, reservation.ends_at, rules.notice, now
    )


async def _move_deposit(
    db: AsyncSession,
    currency: str,
    reservation: Reservation,
    customer: User,
    reason: str,
    actor_id: uuid.UUID | None,
    session_id: uuid.UUID | None = None,
    *,
    take: bool = False,
) -> None:
    """The deposit's one ledger entry: taken at booking (DEBIT), or back on the balance
    (REFUND: cancelled, a refunded no-show, or credited against play at check-in)."""
    movement = accounts.Movement(
        currency=currency,
        reason=reason,
        actor_id=actor_id,
        session_id=session_id,
        station_id=reservation.station_id,
    )
    if take:
        await accounts.debit(db, customer, reservation.deposit, LedgerKind.DEBIT, movement)
    else:
        await accounts.credit(db, customer, reservation.deposit, LedgerKind.REFUND, movement)


def _close(
    reservation: Reservation,
    status: ReservationStatus,
    outcome: DepositOutcome,
    now: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    reservation.status, reservation.deposit_outcome = status, outcome
    reservation.closed_at, reservation.closed_by = now, actor_id


def _about(reservation: Reservation, customer: User, actor_id: uuid.UUID | None) -> dict[str, Any]:
    """The fields every reservation event carries."""
    return {
        "station_id": reservation.station_id,
        "session_id": reservation.session_id,
        "actor_id": actor_id,
        "reservation_id": reservation.id,
        "user_id": customer.id,
        "customer_name": customer.full_name or customer.username,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
    }
