"""Ends every ACTIVE session at its scheduled end, to the sub-second.

A timer per session (armed by the ``SessionStarted`` and ``SessionExtended`` domain
events from the bus, disarmed when it ends), plus a sweep at start-up and periodically, so a
restart or a missed message never leaves a session running past its end. Every replica
arms its own timers; the claim in :func:`repository.claim_expiries` lets exactly one of
them expire the session.

The timers fire on a grid of ``TICK_SECONDS``: the sessions that end within one tick are
due together and expired in one transaction. A tournament's 10,000 sessions ending in one
minute are then at most 20 transactions a second, however they spread over the minute,
instead of one each (167 a second, on SQLite's one connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import structlog

from gameops.protocol import utc_now
from gameops.server.bus import DOMAIN, EventBus, Subscription
from gameops.server.db.engine import Database
from gameops.server.events.base import typed
from gameops.server.jobs import Periodic
from gameops.server.sessions import repository, service
from gameops.server.sessions.domain import seconds_left
from gameops.server.sessions.events import (
    SessionCancelled,
    SessionClockStarted,
    SessionEnded,
    SessionExpired,
    SessionExtended,
    SessionStarted,
)

log = structlog.get_logger(__name__)
FOLLOWED = (
    SessionStarted,
    SessionExtended,
    SessionClockStarted,
    SessionEnded,
    SessionExpired,
    SessionCancelled,
)
RETRY_SECONDS = 1.0
# Due sessions are expired in batches of up to this many, one transaction each: a burst of
# thousands (a tournament's sessions ending in the same minute) costs tens of transactions.
BATCH = 200
# The timers' grid: a session is due at the first tick at or after its end, so at most this
# much later than it ends.
TICK_SECONDS = 0.05


class ExpiryScheduler:
    def __init__(self, database: Database, bus: EventBus, sweep_seconds: float) -> None:
        self._database = database
        self._bus = bus
        # Armed sessions by tick (loop time / TICK_SECONDS), each tick with its one timer.
        self._tick_of: dict[uuid.UUID, int] = {}
        self._ticks: dict[int, tuple[asyncio.TimerHandle, set[uuid.UUID]]] = {}
        # Due, waiting for the worker; then in flight. A sweep or an event must not re-arm
        # a session in either.
        self._due: set[uuid.UUID] = set()
        self._expiring: set[uuid.UUID] = set()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper = Periodic("expiry-sweep", sweep_seconds, self.sweep)

    @property
    def armed(self) -> int:
        return len(self._tick_of)

    def is_armed(self, session_id: uuid.UUID) -> bool:
        return session_id in self._tick_of

    async def start(self) -> None:
        subscription = self._bus.subscribe(DOMAIN)
        self._spawn(self._follow(subscription), "expiry-follow")
        self._spawn(self._work(), "expiry-worker")
        await self.sweep()
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
        for timer, _ in self._ticks.values():
            timer.cancel()
        self._ticks.clear()
        self._tick_of.clear()
        for task in tuple(self._tasks):
            task.cancel()
        for task in tuple(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sweep(self) -> None:
        """Expire what is overdue now and arm a timer for every other active session."""
        async with self._database.sessionmaker() as db:
            active = await repository.all_active(db)
        for session_id, end_at in active:
            self.arm(session_id, end_at)

    def arm(self, session_id: uuid.UUID, end_at: datetime) -> None:
        if session_id in self._due or session_id in self._expiring:
            return  # being expired; if it turns out not due, the worker re-arms it
        self._arm_in(session_id, seconds_left(end_at, utc_now()))

    def disarm(self, session_id: uuid.UUID) -> None:
        tick = self._tick_of.pop(session_id, None)
        if tick is None:
            return
        timer, sessions = self._ticks[tick]
        sessions.discard(session_id)
        if not sessions:
            timer.cancel()
            del self._ticks[tick]

    def _arm_in(self, session_id: uuid.UUID, delay: float) -> None:
        self.disarm(session_id)
        loop = asyncio.get_running_loop()
        tick = math.ceil((loop.time() + delay) / TICK_SECONDS)
        if tick not in self._ticks:
            self._ticks[tick] = (loop.call_at(tick * TICK_SECONDS, self._fire, tick), set())
        self._ticks[tick][1].add(session_id)
        self._tick_of[session_id] = tick

    def _fire(self, tick: int) -> None:
        _, sessions = self._ticks.pop(tick)
        for session_id in sessions:
            del self._tick_of[session_id]
        self._due |= sessions
        self._wake.set()

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._due:
                batch = {self._due.pop() for _ in range(min(BATCH, len(self._due)))}
                self._expiring |= batch
                try:
                    still_running = await self._expire(batch)
                except Exception:
                    log.exception("expiring sessions failed; retrying", sessions=len(batch))
                    for session_id in batch:
                        self._arm_in(session_id, RETRY_SECONDS)
                    continue
                finally:
                    self._expiring -= batch
                for session_id, ends_at in still_running.items():
                    self.arm(session_id, ends_at)

    async def _expire(self, batch: set[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        """Expire what is due of ``batch``; when the others that still run now end."""
        async with self._database.transaction() as db:
            expired = await service.expire_due(db, batch)
            # Not claimed: extended meanwhile, ended by someone else, or the timer fired a
            # hair early against the wall clock. Only a session still running needs a timer.
            still_running = await repository.active_ends(db, batch - expired)
        if expired:
            log.info("sessions expired", count=len(expired))
        return still_running

    async def _follow(self, subscription: Subscription) -> None:
        async for event in typed(subscription, FOLLOWED):
            if isinstance(event, SessionClockStarted) and not event.restarted:
                continue  # taken at once: the timer armed at the sale stands
            # A PC's sale waiting for its agent cannot expire (the claim checks); its timer
            # just finds it waiting, and the clock's start arms the new end.
            if isinstance(event, SessionStarted | SessionExtended | SessionClockStarted):
                self.arm(event.session_id, event.scheduled_end_at)
            elif isinstance(event, SessionEnded | SessionExpired | SessionCancelled):
                self.disarm(event.session_id)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
