"""Every query of reservations."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, exists, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Reservation, Station, User
from gameops.server.reservations.domain import ACTIVE, BOOKABLE, ReservationStatus
from gameops.server.stations.domain import StationType

# The name of the PostgreSQL exclusion constraint and the text of the SQLite triggers'
# abort (0100 migration): how an overlap is told from any other integrity error.
OVERLAP = "reservations_no_overlap"
# PostgreSQL's SQLSTATE for "deadlock detected", and how often an insert it ended is tried.
DEADLOCK = "40P01"
DEADLOCK_ATTEMPTS = 5


async def insert(db: AsyncSession, reservation: Reservation) -> bool:
    """Add ``reservation``; False when the database refuses it as overlapping an active
    booking of its station. Concurrent bookings cannot both pass: on PostgreSQL the second
    insert waits on the first's transaction and fails once it commits; SQLite has one
    writer at a time, and its trigger checks under that lock."""

    async def add() -> None:
        db.add(reservation)
        await db.flush()

    return await _unless_overlapping(db, add)


async def move(
    db: AsyncSession,
    reservation: Reservation,
    station_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
) -> bool:
    """Give ``reservation`` a new station and slot; False (and nothing changed) when the
    database refuses it as overlapping another active booking (the same constraint as a
    new booking: the PostgreSQL exclusion constraint, the SQLite update trigger)."""

    async def moved() -> None:
        await db.execute(
            update(Reservation)
            .where(Reservation.id == reservation.id)
            .values(station_id=station_id, starts_at=starts_at, ends_at=ends_at)
            .execution_options(synchronize_session=False)
        )

    try:
        return await _unless_overlapping(db, moved)
    finally:
        await db.refresh(reservation)


async def _unless_overlapping(db: AsyncSession, write: Callable[[], Awaitable[None]]) -> bool:
    """``write`` in a savepoint; False when the database refuses it as overlapping.

    Several writes of one slot at once can wait on each other through the exclusion
    constraint, and PostgreSQL then aborts all but one with "deadlock detected" (seen with
    twelve bookings at once). Only the savepoint is lost: the write is tried again, and then
    waits for the one that went through like any other."""
    attempts_left = DEADLOCK_ATTEMPTS
    while True:
        try:
            async with db.begin_nested():
                await write()
        except IntegrityError as err:
            if OVERLAP not in str(err.orig):
                raise
            return False
        except DBAPIError as err:
            attempts_left -= 1
            if getattr(err.orig, "sqlstate", None) != DEADLOCK or attempts_left == 0:
                raise
        else:
            return True


def _overlapping(starts_at: datetime, ends_at: datetime) -> list[ColumnElement[bool]]:
    return [
        Reservation.status.in_(ACTIVE),
        Reservation.starts_at < ends_at,
        Reservation.ends_at > starts_at,
    ]


async def free_pcs_in_zone(
    db: AsyncSession, zone: str, starts_at: datetime, ends_at: datetime
) -> Sequence[Station]:
    """The zone's PCs with no active booking then, by name (the database has the last word:
    another booking may take one before this one is written)."""
    taken = exists().where(Reservation.station_id == Station.id, *_overlapping(starts_at, ends_at))
    query = select(Station).where(
        Station.zone == zone,
        Station.type == StationType.PC,
        Station.archived_at.is_(None),
        ~taken,
    )
    return (await db.scalars(query.order_by(Station.name))).all()


async def get(
    db: AsyncSession, reservation_id: uuid.UUID, *, lock: bool = False
) -> Reservation | None:
    query = select(Reservation).where(Reservation.id == reservation_id)
    if lock:
        query = query.with_for_update()
    reservation: Reservation | None = await db.scalar(query)
    return reservation


async def lock(db: AsyncSession, reservation_id: uuid.UUID) -> Reservation | None:
    """The booking, locked after its station: a login at the PC locks the station before
    it checks the booking in, so taking the two in the other order here could deadlock."""
    station_id = await db.scalar(
        select(Reservation.station_id).where(Reservation.id == reservation_id)
    )
    if station_id is None:
        return None
    await db.execute(select(Station.id).where(Station.id == station_id).with_for_update())
    return await get(db, reservation_id, lock=True)


async def holding(
    db: AsyncSession, station_id: uuid.UUID, now: datetime, notice: timedelta
) -> Reservation | None:
    """The booking that holds the station at ``now``: BOOKED, its notice window open."""
    query = select(Reservation).where(
        Reservation.station_id == station_id,
        Reservation.status == ReservationStatus.BOOKED,
        Reservation.starts_at <= now + notice,
        Reservation.ends_at > now,
    )
    reservation: Reservation | None = await db.scalar(query.order_by(Reservation.starts_at))
    return reservation


async def holding_many(
    db: AsyncSession, station_ids: Collection[uuid.UUID], now: datetime, notice: timedelta
) -> dict[uuid.UUID, Reservation]:
    """``holding`` of many stations at once (those held, each by its first booking)."""
    if not station_ids:
        return {}
    query = select(Reservation).where(
        Reservation.station_id.in_(station_ids),
        Reservation.status == ReservationStatus.BOOKED,
        Reservation.starts_at <= now + notice,
        Reservation.ends_at > now,
    )
    held: dict[uuid.UUID, Reservation] = {}
    for reservation in await db.scalars(query.order_by(Reservation.starts_at)):
        held.setdefault(reservation.station_id, reservation)
    return held


async def next_booked(
    db: AsyncSession, station_id: uuid.UUID, now: datetime, until: datetime
) -> Reservation | None:
    """The station's first waiting booking that overlaps ``[now, until)``."""
    query = select(Reservation).where(
        Reservation.station_id == station_id,
        Reservation.status == ReservationStatus.BOOKED,
        Reservation.starts_at < until,
        Reservation.ends_at > now,
    )
    reservation: Reservation | None = await db.scalar(
        query.order_by(Reservation.starts_at).limit(1)
    )
    return reservation


async def due_to_announce(db: AsyncSession, now: datetime, notice: timedelta) -> list[uuid.UUID]:
    query = select(Reservation.id).where(
        Reservation.status == ReservationStatus.BOOKED,
        Reservation.announced_at.is_(None),
        Reservation.starts_at <= now + notice,
        Reservation.ends_at > now,
    )
    return list((await db.scalars(query)).all())


async def due_no_shows(db: AsyncSession, now: datetime, no_show: timedelta) -> list[uuid.UUID]:
    query = select(Reservation.id).where(
        Reservation.status == ReservationStatus.BOOKED,
        Reservation.starts_at <= now - no_show,
    )
    return list((await db.scalars(query.order_by(Reservation.starts_at))).all())


Row = tuple[Reservation, str, str, str | None]  # the booking, station, username, full name


def _named() -> Select[Reservation, str, str, str]:
    return (
        select(Reservation, Station.name, User.username, User.full_name)
        .join(Station, Station.id == Reservation.station_id)
        .join(User, User.id == Reservation.user_id)
    )


async def with_names(db: AsyncSession, reservation_id: uuid.UUID) -> Row | None:
    row = (await db.execute(_named().where(Reservation.id == reservation_id))).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


async def between(db: AsyncSession, start: datetime, end: datetime) -> list[Row]:
    """Every booking (any status) that overlaps ``[start, end)``, with names, by start."""
    query = (
        _named()
        .where(Reservation.starts_at < end, Reservation.ends_at > start)
        .order_by(Reservation.starts_at, Station.name)
    )
    return [(r[0], r[1], r[2], r[3]) for r in (await db.execute(query)).all()]


async def of_member(db: AsyncSession, user_id: uuid.UUID, since: datetime, limit: int) -> list[Row]:
    query = (
        _named()
        .where(Reservation.user_id == user_id, Reservation.ends_at > since)
        .order_by(Reservation.starts_at)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in (await db.execute(query)).all()]


async def bookable(db: AsyncSession) -> Sequence[Station]:
    """The stations a member may book: PCs and consoles."""
    query = select(Station).where(Station.type.in_(BOOKABLE), Station.archived_at.is_(None))
    return (await db.scalars(query.order_by(Station.zone, Station.name))).all()
