"""Ends every ACTIVE session at its scheduled end, to the sub-second.

One timer per session (armed by the ``SessionStarted`` and ``SessionExtended`` domain
events from the bus, disarmed when it ends), plus a sweep at start-up and periodically, so a
restart or a missed message never leaves a session running past its end. Every replica
arms its own timers; the claim in :func:`repository.claim_expiry` lets exactly one of them
expire the session.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from gameops.server.sessions.domain import SessionStatus, seconds_left
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
EXPIRING_AT_ONCE = 4


class ExpiryScheduler:
    def __init__(self, database: Database, bus: EventBus, sweep_seconds: float) -> None:
        self._database = database
        self._bus = bus
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        # Sessions whose expiry is in flight: a sweep or an event must not start another.
        self._expiring: set[uuid.UUID] = set()
        # A burst of due sessions is worked off a few at a time, earliest first: hundreds of
        # interleaved transactions would all finish late together (and queue on the pool).
        self._slots = asyncio.Semaphore(EXPIRING_AT_ONCE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper = Periodic("expiry-sweep", sweep_seconds, self.sweep)

    @property
    def armed(self) -> int:
        return len(self._timers)

    async def start(self) -> None:
        subscription = self._bus.subscribe(DOMAIN)
        self._spawn(self._follow(subscription), "expiry-follow")
        await self.sweep()
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
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
        if session_id in self._expiring:
            return  # being expired right now; if it turns out not due, that re-arms it
        self.disarm(session_id)
        delay = seconds_left(end_at, utc_now())
        loop = asyncio.get_running_loop()
        self._timers[session_id] = loop.call_later(delay, self._fire, session_id)

    def disarm(self, session_id: uuid.UUID) -> None:
        timer = self._timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()

    def _fire(self, session_id: uuid.UUID) -> None:
        self._timers.pop(session_id, None)
        self._expiring.add(session_id)
        self._spawn(self._expire(session_id), f"expire-{session_id}")

    async def _expire(self, session_id: uuid.UUID) -> None:
        try:
            async with self._slots:
                ends_at = await self._try_expire(session_id)
        except Exception:
            log.exception("expiring a session failed; retrying", session_id=str(session_id))
            self._rearm_later(session_id)  # a timer: it fires after the finally below
            return
        finally:
            self._expiring.discard(session_id)
        if ends_at is not None:
            self.arm(session_id, ends_at)

    async def _try_expire(self, session_id: uuid.UUID) -> datetime | None:
        """Expire the session if due. If it is still running, when it now ends."""
        async with self._database.transaction() as db:
            if await service.expire_session(db, session_id):
                log.info("session expired", session_id=str(session_id))
                return None
            still_active = await repository.get(db, session_id)
        # Not claimed: extended meanwhile, ended by someone else, or the timer fired a hair
        # early against the wall clock. Only a session still running needs a new timer.
        running = still_active is not None and still_active.waiting_since is None
        if still_active is not None and running and still_active.status is SessionStatus.ACTIVE:
            return still_active.scheduled_end_at
        return None

    def _rearm_later(self, session_id: uuid.UUID) -> None:
        loop = asyncio.get_running_loop()
        self._timers[session_id] = loop.call_later(RETRY_SECONDS, self._fire, session_id)

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
