"""Device health per station: a failure writes DEVICE_ERROR and sets the station to ERROR;
the first answer after that writes DEVICE_RECOVERED and restores the status.

Writes happen in their own transaction, in the background: the call that failed may be
inside a request that holds the station's row lock and is about to roll back (a refused
start), and the error must be recorded all the same.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

import structlog

from gameops.server.control import repository
from gameops.server.db.engine import Database
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.stations import repository as stations_repository
from gameops.server.stations import service as stations
from gameops.server.stations.domain import StationStatus, status_after_device_recovered

log = structlog.get_logger(__name__)
Key = tuple[uuid.UUID, str]


class DeviceHealth:
    def __init__(self, database: Database) -> None:
        self._ok: dict[Key, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._database = database

    async def drain(self) -> None:
        """Waits for the pending writes (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    def answered(self, station_id: uuid.UUID, device: str) -> None:
        was = self._ok.get((station_id, device))
        self._ok[station_id, device] = True
        healthy = all(ok for (sid, _), ok in self._ok.items() if sid == station_id)
        if was is not True and healthy:
            self._spawn(self._recovered(station_id, device))

    def failed(self, station_id: uuid.UUID, device: str, operation: str, error: Exception) -> None:
        was = self._ok.get((station_id, device))
        self._ok[station_id, device] = False
        log.warning("device failed", station_id=str(station_id), device=device, error=str(error))
        if was is not False:
            self._spawn(self._failed(station_id, device, operation, str(error)))

    async def _failed(self, station_id: uuid.UUID, device: str, operation: str, error: str) -> None:
        async with self._database.transaction() as db:
            station = await stations_repository.get_live(db, station_id, lock=True)
            if station is None:
                return
            data = {"device": device, "operation": operation, "error": error}
            record_event(db, EventType.DEVICE_ERROR, station_id=station_id, data=data)
            stations.set_status(db, station, StationStatus.ERROR, reason=f"{device}: {error}")

    async def _recovered(self, station_id: uuid.UUID, device: str) -> None:
        async with self._database.transaction() as db:
            station = await stations_repository.get_live(db, station_id, lock=True)
            if station is None or station.status is not StationStatus.ERROR:
                return
            in_session = await repository.has_active_session(db, station_id)
            record_event(
                db, EventType.DEVICE_RECOVERED, station_id=station_id, data={"device": device}
            )
            status = status_after_device_recovered(station.status, in_session)
            stations.set_status(db, station, status, reason=f"{device} answers again")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("recording device health failed")
