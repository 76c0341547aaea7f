"""Keeps the login view of every PC on the prices that apply now.

An agent is told its station's prices (``station_info``) when it says hello and after a
logout; a happy hour that starts later would leave the login view on the old price. So each
replica waits for the next moment a rate may change (a time-of-day rule's start or end in
any plan, or the venue's midnight) and then sends a fresh ``station_info`` to every agent it
holds. It looks again at least every :data:`LOOK_AGAIN_SECONDS`, so a rule added to a plan
meanwhile is waited for too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.errors import NotFound
from gameops.server.play import service as play
from gameops.server.play.service import PlayRules
from gameops.server.realtime.hub import AgentHub

log = structlog.get_logger(__name__)

LOOK_AGAIN_SECONDS = 60.0
RETRY_SECONDS = 5.0


class PriceBoard:
    def __init__(
        self,
        database: Database,
        hub: AgentHub,
        rules: PlayRules,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._hub = hub
        self._rules = rules
        self._clock = clock  # the wall clock; injected by tests to stand just before a change
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="price-board")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._wait_and_refresh()
            except Exception:
                log.exception("price board failed; trying again")
                await asyncio.sleep(RETRY_SECONDS)

    async def _wait_and_refresh(self) -> None:
        now = self._clock()
        async with self._database.sessionmaker() as db:
            change = await play.next_price_change(db, self._rules, now)
        await asyncio.sleep(min((change - now).total_seconds(), LOOK_AGAIN_SECONDS))
        if self._clock() >= change:  # not woken early, nor only to look again
            await self.refresh()

    async def refresh(self) -> int:
        """Send each agent connected here its station's prices as of now; how many were sent."""
        now, sent = self._clock(), 0
        for station_id in self._hub.stations_here():
            async with self._database.sessionmaker() as db:
                try:
                    info = await play.station_info(db, self._rules, station_id, now)
                except NotFound:  # deleted while its agent is still connected
                    continue
            sent += self._hub.send_here(station_id, info)
        log.info("prices refreshed on the login views", agents=sent, at=now.isoformat())
        return sent
