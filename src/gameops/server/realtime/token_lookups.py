"""Agent tokens looked up many at once, for handshakes that arrive together.

Each handshake needs its station's token hash. In a reconnect storm that was two queries
per agent, each a turn on the database (on SQLite, on its one connection, between the
writes). Here a lookup is queued, and whenever none is under way one query answers
everything queued (up to ``chunk``): a lone agent waits for its own query only.
"""

from __future__ import annotations

import uuid

from gameops.server.db.engine import Database
from gameops.server.realtime.grouped import Grouped
from gameops.server.stations import repository as stations

LOOKUP_CHUNK = 500


class TokenLookup:
    """``hash_of(station_id)``: whether the station is live, and its agent token's hash."""

    def __init__(self, database: Database, chunk: int = LOOKUP_CHUNK) -> None:
        self._database = database
        self._lookups = Grouped(self._look_up, chunk, "token-lookups")
        self.queries = 0

    async def hash_of(self, station_id: uuid.UUID) -> tuple[bool, str | None]:
        """(False, None): no such live station; (True, None): it has no token."""
        answer: tuple[bool, str | None] = await self._lookups.submit(station_id)
        return answer

    async def _look_up(self, batch: list[uuid.UUID]) -> list[tuple[bool, str | None]]:
        async with self._database.sessionmaker() as db:
            hashes = await stations.live_token_hashes(db, set(batch))
        self.queries += 1
        return [(station_id in hashes, hashes.get(station_id)) for station_id in batch]
