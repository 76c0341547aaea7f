"""The reservations worker: every few seconds, opens the notice window of bookings about to
start (their PC is held and says so) and releases the no-shows. Each booking is settled in
a transaction of its own, under its row lock, so replicas running the same worker settle
each exactly once. The clock is injected: tests pass the time to :meth:`tick`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.jobs import Periodic
from gameops.server.reservations import repository, service
from gameops.server.reservations.domain import ReservationRules

log = structlog.get_logger(__name__)


class ReservationWatch:
    def __init__(
        self,
        database: Database,
        rules: ReservationRules,
        poll_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self.rules = rules
        self._clock = clock
        self._periodic = Periodic("reservations", poll_seconds, self.tick)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def tick(self, now: datetime | None = None) -> tuple[int, int]:
        """Announce and release what is due at ``now`` (the clock's time if not given).
        Returns how many were announced and released."""
        now = now or self._clock()
        rules = self.rules
        # No-shows first: a booking past its deadline is released, never announced.
        async with self._database.sessionmaker() as db:
            no_shows = await repository.due_no_shows(db, now, rules.no_show)
        released = sum([await self._each(service.release_no_show, i, now) for i in no_shows])
        async with self._database.sessionmaker() as db:
            announce = await repository.due_to_announce(db, now, rules.notice)
        announced = sum([await self._each(service.announce_due, i, now) for i in announce])
        return announced, released

    async def _each(self, step: service.Step, reservation_id: uuid.UUID, now: datetime) -> bool:
        try:
            async with self._database.transaction() as db:
                return await step(db, self.rules, reservation_id, now)
        except Exception:
            log.exception("reservation step failed", reservation=str(reservation_id))
            return False
