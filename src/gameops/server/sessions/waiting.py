"""Sales waiting for their PC: when a PC has not taken its session within the venue's wait
(``agent_start_wait_minutes``), staff are told once (SESSION_START_OVERDUE on the feed and
the floor) so they can move the sale to another PC or give it back."""

from __future__ import annotations

from datetime import timedelta

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.events.base import record
from gameops.server.jobs import Periodic
from gameops.server.sessions import repository
from gameops.server.sessions.events import SessionStartOverdue

# How often to look, at most: a wait of minutes needs no finer check.
LOOK_EVERY_SECONDS = 15.0


class WaitingWatch:
    def __init__(self, database: Database, wait_minutes: float) -> None:
        self._database = database
        self._wait = timedelta(minutes=wait_minutes)
        every = min(LOOK_EVERY_SECONDS, max(self._wait.total_seconds() / 4, 0.1))
        self._job = Periodic("waiting-for-pc", every, self.look)

    def start(self) -> None:
        self._job.start()

    async def stop(self) -> None:
        await self._job.stop()

    async def look(self) -> None:
        now = utc_now()
        async with self._database.transaction() as db:
            for session_id, station_id, since in await repository.claim_overdue(
                db, now - self._wait, now
            ):
                record(
                    db,
                    SessionStartOverdue(
                        session_id=session_id, station_id=station_id, waiting_since=since
                    ),
                )
