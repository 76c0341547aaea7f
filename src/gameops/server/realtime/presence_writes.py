"""Agents' connects, hellos and disconnects, written many to a transaction (group commit).

A server restart at opening time has every PC reconnect at once: 10,000 handshakes, each
a station row lock, an UPDATE and an audit event, then each agent's hello, one more write.
One transaction each, that is 20,000 commits queued on the database (on SQLite, on its one
connection). Here each such write is queued and its caller waits for it. Whenever no
flush is under way one starts at once, with everything queued (up to ``chunk``): a lone
agent waits for its own transaction only, and a storm is written a few hundred agents per
transaction, as many as came in while the previous one was committing.

A flush locks its stations in id order (as every transaction that records station events
does, ``events/dispatch.py``, so two replicas' flushes cannot deadlock, and a station's
events keep their commit order), applies the writes in the order they came (a disconnect
and the reconnect after it keep theirs), and commits; only then is each caller answered.
A connect whose socket was accepted before the station's current connection's (its
handshake was slow; its agent gave up on it and came back) writes nothing and is answered
"superseded": its caller closes it as replaced.
If the transaction fails, nothing of it is written and every caller in it gets the error:
a connecting agent is told to come back later (1013), as for any failed handshake.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import AgentHello, Payload
from gameops.server.db.engine import Database
from gameops.server.db.models import Station
from gameops.server.errors import NotFound
from gameops.server.realtime import presence
from gameops.server.realtime.grouped import Grouped
from gameops.server.stations import repository as stations

log = structlog.get_logger(__name__)
# Writes per transaction: bounds its statements' parameters, its locks and how long it
# holds the database (SQLite's one connection) from everyone else.
FLUSH_CHUNK = 500

# What agents' hellos are answered with (their login views), read in the flush's
# transaction for all the hellos in it at once, after the writes.
Describe = Callable[[AsyncSession, Sequence[Station]], Awaitable[dict[uuid.UUID, Payload]]]
Apply = Callable[[AsyncSession, Station], Awaitable[Any]]


class _Describe:
    """A hello's outcome until the flush has described all the stations that said hello."""


_DESCRIBE = _Describe()


class PresenceWriter:
    """Queues agents' presence writes and commits them in batches; each caller waits for
    the commit of its own write (or its error)."""

    def __init__(self, database: Database, describe: Describe, chunk: int = FLUSH_CHUNK) -> None:
        self._database = database
        self._describe = describe
        self._writes = Grouped(self._flush, chunk, "presence-writes")
        self.flushes = 0  # transactions that committed
        self.written = 0  # writes they held

    async def connected(
        self, station_id: uuid.UUID, connection_id: uuid.UUID, accepted_at: datetime
    ) -> bool:
        """The station is online, served by ``connection_id``; False (superseded, nothing
        written) if its connection was accepted after ``accepted_at`` (``presence.connected``)."""

        async def apply(db: AsyncSession, station: Station) -> bool:
            return presence.connected(db, station, connection_id, accepted_at)

        current: bool = await self._submit(station_id, apply)
        return current

    async def hello(self, station_id: uuid.UUID, hello: AgentHello) -> Payload:
        """Records what the agent says of its PC; the answer to its hello."""

        async def apply(db: AsyncSession, station: Station) -> _Describe:
            presence.said_hello(station, hello.agent_version, hello.os, hello.specs)
            return _DESCRIBE

        answer: Payload = await self._submit(station_id, apply)
        return answer

    async def disconnected(
        self, station_id: uuid.UUID, connection_id: uuid.UUID, reason: str
    ) -> bool:
        """Offline, unless a newer connection owns the station (``presence.disconnected``)."""

        async def apply(db: AsyncSession, station: Station) -> bool:
            return presence.disconnected(db, station, connection_id, reason)

        went: bool = await self._submit(station_id, apply)
        return went

    async def stop(self) -> None:
        """Waits for the writes already queued to be committed."""
        await self._writes.idle()

    async def _submit(self, station_id: uuid.UUID, apply: Apply) -> Any:
        return await self._writes.submit((station_id, apply))

    async def _flush(self, batch: list[tuple[uuid.UUID, Apply]]) -> list[Any]:
        outcomes: list[Any] = []
        try:
            async with self._database.transaction() as db:
                rows = await stations.lock_many(db, {station_id for station_id, _ in batch})
                for station_id, apply in batch:
                    station = rows.get(station_id)
                    if station is None or station.archived_at is not None:
                        outcomes.append(NotFound("Station not found"))
                    else:
                        outcomes.append(await apply(db, station))
                await self._describe_hellos(db, batch, rows, outcomes)
        except BaseException as err:
            shown = repr(err)[:200]
            log.warning("presence writes failed; none written", writes=len(batch), error=shown)
            raise
        self.flushes += 1
        self.written += len(batch)
        return outcomes

    async def _describe_hellos(
        self,
        db: AsyncSession,
        batch: list[tuple[uuid.UUID, Apply]],
        rows: dict[uuid.UUID, Station],
        outcomes: list[Any],
    ) -> None:
        """Each hello's outcome replaced by its station's login view."""
        hellos = [i for i, outcome in enumerate(outcomes) if outcome is _DESCRIBE]
        if not hellos:
            return
        said = {batch[i][0] for i in hellos}
        views = await self._describe(db, [rows[station_id] for station_id in sorted(said)])
        for i in hellos:
            outcomes[i] = views[batch[i][0]]
