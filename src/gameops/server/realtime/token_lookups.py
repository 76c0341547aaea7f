"""Agent tokens looked up many at once, for handshakes that arrive together.

Each handshake needs its station's token hash. In a reconnect storm that was two queries
per agent, each a turn on the database (on SQLite, on its one connection, between the
writes). Here a lookup is queued, and whenever none is under way one query answers
everything queued (up to ``chunk``): a lone agent waits for its own query only.
"""

from __future__ import annotations

import asyncio
import uuid

from gameops.server.db.engine import Database
from gameops.server.stations import repository as stations

LOOKUP_CHUNK = 500


class TokenLookup:
    """``hash_of(station_id)``: whether the station is live, and its agent token's hash."""

    def __init__(self, database: Database, chunk: int = LOOKUP_CHUNK) -> None:
        self._database = database
        self._chunk = chunk
        self._queue: list[tuple[uuid.UUID, asyncio.Future[tuple[bool, str | None]]]] = []
        self._running: asyncio.Task[None] | None = None
        self.queries = 0

    async def hash_of(self, station_id: uuid.UUID) -> tuple[bool, str | None]:
        """(False, None): no such live station; (True, None): it has no token."""
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._queue.append((station_id, answer))
        if self._running is None:
            self._running = asyncio.create_task(self._drain(), name="token-lookups")
        return await answer

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._chunk], self._queue[self._chunk :]
                await self._look_up(batch)
        finally:
            self._running = None
            for _, answer in self._queue:  # left only if the lookup was cancelled
                answer.cancel()
            self._queue.clear()

    async def _look_up(
        self, batch: list[tuple[uuid.UUID, asyncio.Future[tuple[bool, str | None]]]]
    ) -> None:
        try:
            async with self._database.sessionmaker() as db:
                hashes = await stations.live_token_hashes(db, {sid for sid, _ in batch})
        except Exception as err:
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(err)
            return
        except BaseException:
            for _, answer in batch:
                answer.cancel()
            raise
        self.queries += 1
        for station_id, answer in batch:
            if not answer.done():
                answer.set_result((station_id in hashes, hashes.get(station_id)))
