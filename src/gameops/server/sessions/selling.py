"""Selling and extending time, with the station's own devices switched outside the
transaction: a console's plug and router are switched on *before* the sale's transaction
(a dead device refuses the sale, 502, with nothing written) and switched off again if the
sale then does not commit. No transaction waits on a device, so a slow plug holds no row
lock (nor SQLite's one connection)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.db.models import Station, User
from gameops.server.payments.domain import PaymentMethod, Refusal
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.idempotency import Answer, answer_once, fingerprint, stored_answer
from gameops.server.sessions import repository, service
from gameops.server.sessions.bookings import BookingGate, NoBookings
from gameops.server.sessions.domain import SessionStatus, check_duration
from gameops.server.sessions.schemas import (
    SessionCardPending,
    SessionExtendRequest,
    SessionStartRequest,
)
from gameops.server.settings import Settings
from gameops.server.stations import repository as stations
from gameops.server.stations.domain import StationStatus


class StationPower(Protocol):
    """A station's own devices (a console's plug and router); implemented by station control."""

    async def switch_on_for_sale(self, station: Station, until: datetime) -> bool:
        """Switch on until ``until``; True if there was anything to switch. Raises
        ``BadGateway`` naming the device that does not answer."""
        ...

    async def switch_off_unless_busy(self, station_id: uuid.UUID) -> None:
        """Undo a switch-on whose sale did not commit, unless a session runs there now."""
        ...


Produce = Callable[[AsyncSession], Awaitable[Answer]]
_SWITCHED = "gameops_switched_before"


def switched_before(db: AsyncSession) -> set[uuid.UUID]:
    """The stations whose devices this transaction's sale switched on before it began."""
    switched: set[uuid.UUID] = db.info.get(_SWITCHED, set())
    return switched


_NOT_SELLABLE = (StationStatus.IN_SESSION, StationStatus.MAINTENANCE)


class Selling:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        power: StationPower,
        gateway: PaymentGateway | None,
        bookings: BookingGate | None = None,
    ) -> None:
        self._database = database
        self.bookings: BookingGate = bookings or NoBookings()
        self._settings = settings
        self._power = power
        self._gateway = gateway
        # One sale at a time per station in this process: a refused sale's switch-off must
        # not race a sale that is committing on the same console.
        self._stations: defaultdict[uuid.UUID, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def start(self, body: SessionStartRequest, staff: User, key: str | None) -> JSONResponse:
        async def sell(db: AsyncSession) -> Answer:
            sale = await service.start_session(
                self._settings, db, body, staff, self._gateway, self.bookings
            )
            return _answer(sale, 201)

        # Before any arithmetic on it: -2**31 minutes is no date (a 500 schemathesis found).
        check_duration(body.duration_minutes, self._settings.max_session_minutes)
        print_ = fingerprint("sessions.start", staff.id, body.model_dump(mode="json"))
        until = utc_now() + timedelta(minutes=body.duration_minutes)
        on_site = body.payment_method is not PaymentMethod.CARD  # a card sale waits for the card
        return await self._sell(
            body.station_id, until if on_site else None, (key, print_, staff.id), sell, undo=True
        )

    async def extend(
        self, session_id: uuid.UUID, body: SessionExtendRequest, staff: User, key: str | None
    ) -> JSONResponse:
        async def sell(db: AsyncSession) -> Answer:
            sale = await service.extend_session(
                self._settings, db, session_id, body, staff, self._gateway, self.bookings
            )
            return _answer(sale, 200)

        check_duration(
            body.additional_minutes, self._settings.max_session_minutes, "additional_minutes"
        )
        request = {"session_id": str(session_id), **body.model_dump(mode="json")}
        print_ = fingerprint("sessions.extend", staff.id, request)
        async with self._database.sessionmaker() as db:
            session = await repository.get(db, session_id)
        running = session is not None and session.status is SessionStatus.ACTIVE
        if session is None or not running or body.payment_method is PaymentMethod.CARD:
            until = None  # nothing to switch: the transaction gives the answer
        else:
            until = session.scheduled_end_at + timedelta(minutes=body.additional_minutes)
        # Unknown session: nothing is switched and the transaction answers 404.
        station_id = session.station_id if session is not None else session_id
        # An extension that does not commit leaves the devices on for the running session.
        return await self._sell(station_id, until, (key, print_, staff.id), sell, undo=False)

    async def _sell(
        self,
        station_id: uuid.UUID,
        until: datetime | None,
        idempotency: tuple[str | None, str, uuid.UUID],
        produce: Produce,
        *,
        undo: bool,
    ) -> JSONResponse:
        key, print_, actor_id = idempotency
        async with self._stations[station_id]:
            switched = False
            if until is not None and not await self._answered(key):
                switched = await self._switch_on(station_id, until)
            try:
                async with self._database.transaction() as db:
                    if switched:
                        db.info[_SWITCHED] = {station_id}
                    response = await answer_once(db, key, print_, actor_id, lambda: produce(db))
            except BaseException:
                if switched and undo:
                    await self._power.switch_off_unless_busy(station_id)
                raise
            if switched and undo and response.status_code >= 300:
                await self._power.switch_off_unless_busy(station_id)
            return response

    async def _answered(self, key: str | None) -> bool:
        """A retry of an answered request changes nothing, devices included."""
        if key is None:
            return False
        async with self._database.sessionmaker() as db:
            return await stored_answer(db, key)

    async def _switch_on(self, station_id: uuid.UUID, until: datetime) -> bool:
        async with self._database.sessionmaker() as db:
            station = await stations.get_live(db, station_id)
        if station is None or station.status in _NOT_SELLABLE:
            return False  # the transaction refuses the sale (404, 409) with nothing switched
        return await self._power.switch_on_for_sale(station, until)


def _answer(sale: service.Sale, success_status: int) -> Answer:
    if isinstance(sale, Refusal):
        return sale.status_code, sale.body()
    if isinstance(sale, SessionCardPending):
        return 202, sale.model_dump(mode="json")
    return success_status, sale.model_dump(mode="json")
