"""Agents' acks. They come in bursts (every agent acks its expiry at the same moment), so
they are written once a second in one statement, not one transaction each. An ack matters
at once only to a session whose paid time waits for its PC to take it (the ack of its
``session_start`` starts the clock); whether one waits is looked up for many acks in one
query, and only those acks are handled in a transaction of their own."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, update

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.db.models import AgentCommand
from gameops.server.jobs import Periodic
from gameops.server.realtime.grouped import Grouped
from gameops.server.sessions import repository as sessions

# Acks answered by one lookup: bounds the query's parameters.
LOOKUP_CHUNK = 500

_RECORD_ACK = (
    update(AgentCommand.__table__)  # type: ignore[arg-type]
    .where(
        AgentCommand.__table__.c.id == bindparam("command_id"),
        AgentCommand.__table__.c.station_id == bindparam("from_station"),
        AgentCommand.__table__.c.acked_at.is_(None),
    )
    .values(acked_at=bindparam("at"))
)


class AckRecorder:
    def __init__(
        self, database: Database, every_seconds: float = 1.0, chunk: int = LOOKUP_CHUNK
    ) -> None:
        self._database = database
        self._pending: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}
        self._flusher = Periodic("ack-flush", every_seconds, self.flush)
        self._waiting = Grouped(self._look_up, chunk, "ack-clock-lookups")
        self.lookups = 0  # queries that answered clock_waits

    def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        await self._flusher.stop()
        await self.flush()

    def add(self, station_id: uuid.UUID, command_id: uuid.UUID) -> None:
        """An ack from ``station_id``; only that station's own commands can be acked."""
        self._pending.setdefault(command_id, (station_id, utc_now()))

    async def clock_waits(self, station_id: uuid.UUID) -> bool:
        """Whether the station's session waits for its PC (its ack may start the clock).
        A session waits from its sale, which committed before its agent could ack it."""
        waits: bool = await self._waiting.submit(station_id)
        return waits

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        rows = [
            {"command_id": command_id, "from_station": station_id, "at": at}
            for command_id, (station_id, at) in batch.items()
        ]
        async with self._database.transaction() as db:
            await db.execute(_RECORD_ACK, rows)

    async def _look_up(self, batch: list[uuid.UUID]) -> list[bool]:
        async with self._database.sessionmaker() as db:
            waiting = await sessions.clock_waiting_on(db, set(batch))
        self.lookups += 1
        return [station_id in waiting for station_id in batch]
