"""The database itself refuses overlapping bookings: written past the service, and raced."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from gameops.server.db.engine import Database, create_engine
from gameops.server.db.models import Reservation, Station, User
from gameops.server.reservations.domain import DepositOutcome, ReservationStatus
from gameops.server.stations.domain import StationStatus, StationType
from gameops.server.users.domain import Role
from tests.server.reservations.conftest import at, book, member, pc
from tests.support.live_server import LiveServer

T0 = datetime(2030, 1, 1, 18, 0, tzinfo=UTC)


def _row(
    station: uuid.UUID,
    user: uuid.UUID,
    start: datetime,
    minutes: int,
    status: ReservationStatus = ReservationStatus.BOOKED,
) -> Reservation:
    return Reservation(
        station_id=station,
        user_id=user,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status=status,
        deposit=0,
        deposit_outcome=DepositOutcome.NONE,
        created_by=user,
    )


async def test_an_overlapping_row_written_directly_is_refused(database_url: str) -> None:
    database = Database(create_engine(database_url))
    try:
        async with database.transaction() as db:
            station = Station(
                name="PC-X", type=StationType.PC, hourly_rate=1, status=StationStatus.OFFLINE
            )
            user = User(username="ada", role=Role.CUSTOMER, balance=0)
            db.add_all([station, user])
            await db.flush()
            ids = station.id, user.id
            db.add(_row(*ids, T0, 60))
            db.add(_row(*ids, T0 + timedelta(minutes=60), 60))  # back to back: fine
            db.add(_row(*ids, T0, 60, ReservationStatus.CANCELLED))  # freed slots do not count
        with pytest.raises(IntegrityError, match="reservations_no_overlap"):
            async with database.transaction() as db:
                db.add(_row(*ids, T0 + timedelta(minutes=30), 60))
        # A cancelled booking brought back over an active one: refused too (the update path).
        with pytest.raises(IntegrityError, match="reservations_no_overlap"):
            async with database.transaction() as db:
                cancelled = await db.scalar(
                    Reservation.__table__.select().where(
                        Reservation.status == ReservationStatus.CANCELLED
                    )
                )
                row = await db.get(Reservation, cancelled)
                assert row is not None
                row.status = ReservationStatus.BOOKED
    finally:
        await database.dispose()


async def test_concurrent_bookings_of_one_slot_one_wins(
    live_server: LiveServer, admin: httpx.AsyncClient, backend: str
) -> None:
    """Twelve members book the same PC at the same time: exactly one gets it, the others a
    409 and their deposit untouched. On PostgreSQL the inserts really run concurrently (no
    pre-check: the exclusion constraint is the only guard)."""
    station = await pc(admin, "PC-RACE")
    clients = [await member(live_server, admin, 1000, f"Racer {n}") for n in range(12)]
    start = at(5)
    answers = await asyncio.gather(
        *(
            book(client, start + timedelta(minutes=n), 60, station_id=station)
            for n, (_, client) in enumerate(clients)
        )
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * 11, [a.text for a in answers]
    day = (await admin.get("/api/v1/reservations", params={"day": start.date().isoformat()})).json()
    assert len([r for r in day if r["station_id"] == station]) <= 1  # the others never written


async def test_concurrent_zone_bookings_each_get_their_own_pc(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """Five members ask for any PC in a zone of three at once: three are booked, each on
    another PC (one refused by the constraint moves on to the next free one), two get 409."""
    zone = [await pc(admin, f"LAN-{n}", zone="LAN") for n in range(3)]
    clients = [await member(live_server, admin, 1000, f"Player {n}") for n in range(5)]
    start = at(7)
    answers = await asyncio.gather(*(book(client, start, 60, zone="LAN") for _, client in clients))
    booked = [a.json()["station_id"] for a in answers if a.status_code == 201]
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 2, [
        a.text for a in answers
    ]
    assert sorted(booked) == sorted(zone)  # one each, no PC twice
