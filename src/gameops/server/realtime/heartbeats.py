"""Agent heartbeats, written in batches.

Every connected agent beats every 30 s; 10,000 of them are 333 a second. Written one
transaction each, that took more than a core. Here a heartbeat is answered at once and
kept in memory (the latest per station); every ``flush_seconds`` one transaction writes the
last-seen times and metrics of all of them and reads back, for all at once, what each
agent should agree with (its active session, the tamper lock). Only an agent that
disagrees (a command was lost) gets the corrections, each in a transaction of its own.
A session sold or ended after the beat was taken is news on its way to the agent, not a
lost command: the agent's next beat tells (a burst of expiries made a correction of every
agent that beat in the second before its session ended, each a transaction, each sending
the expiry a second time).

``last_seen_at`` in the database lags the agent by at most ``flush_seconds`` (plus the
flush itself): the stale-presence sweep allows a whole heartbeat interval more than a
connection's own silence limit, and the interval is far longer than a flush. Each replica
flushes the beats of its own agents; the last ones are flushed when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gameops.protocol import Heartbeat, as_data, utc_now
from gameops.server.db.engine import Database
from gameops.server.sessions import repository as sessions
from gameops.server.stations import repository as stations

log = structlog.get_logger(__name__)
# Stations per flush transaction: bounds its statements' parameters and its locks.
FLUSH_CHUNK = 1000


@dataclass(frozen=True)
class Beat:
    """What is kept of an agent's latest heartbeat until the next flush."""

    connection_id: uuid.UUID
    at: datetime
    metrics: dict[str, Any]
    session_id: uuid.UUID | None  # the session the agent believes is running
    tamper_locked: bool

    @classmethod
    def of(cls, connection_id: uuid.UUID, beat: Heartbeat, at: datetime) -> Beat:
        metrics = {**as_data(beat), "at": at.isoformat()}
        return cls(connection_id, at, metrics, beat.active_session_id, beat.tamper_locked)


@dataclass(frozen=True)
class StationView:
    """What the server holds that an agent's heartbeat must agree with."""

    session_id: uuid.UUID | None
    tamper_locked: bool
    # When the session the agent should know of changed last (sold; or the one the agent
    # believes in, ended), if known.
    session_changed_at: datetime | None = None


def disagrees(beat: Beat, view: StationView) -> bool:
    """The agent's heartbeat contradicts the server: it missed a command, or lost state.
    Not if the session changed after the beat: that command may still be on its way."""
    if beat.tamper_locked != view.tamper_locked:
        return True
    if beat.session_id == view.session_id:
        return False
    return view.session_changed_at is None or view.session_changed_at <= beat.at


# Sends an agent whose heartbeat disagreed what it missed (in a transaction of its own).
Correct = Callable[[uuid.UUID, Beat], Awaitable[None]]


class HeartbeatBatcher:
    """Keeps the latest heartbeat per station (so at most one per agent connected here);
    writes them all every ``flush_seconds``, or sooner once ``flush_at`` stations wait."""

    def __init__(
        self,
        database: Database,
        flush_seconds: float,
        correct: Correct,
        flush_at: int = 5000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._correct = correct
        self._flush_at = flush_at
        self._clock = clock
        self._pending: dict[uuid.UUID, Beat] = {}
        self._wake = asyncio.Event()  # flush now: enough waiting, or stopping
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0  # transactions that wrote beats

    @property
    def pending(self) -> int:
        return len(self._pending)

    def note(self, station_id: uuid.UUID, connection_id: uuid.UUID, beat: Heartbeat) -> None:
        self._pending[station_id] = Beat.of(connection_id, beat, self._clock())
        if len(self._pending) >= self._flush_at:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="heartbeat-flush")

    async def stop(self) -> None:
        """Let a flush under way finish, then write what is still waiting (without
        corrections: the agents are being told to go)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush(correct=False)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_seconds)
            if self._stopping:
                return
            await self.flush()

    async def flush(self, *, correct: bool = True) -> None:
        """Write every waiting beat; then correct the agents that disagreed. A chunk whose
        transaction fails goes back to wait for the next flush (unless newer beats came)."""
        self._wake.clear()
        beats, self._pending = self._pending, {}
        for chunk in _chunks(beats, FLUSH_CHUNK):
            try:
                views = await self._write(chunk)
            except Exception:
                log.exception("heartbeat flush failed; kept for the next one", stations=len(chunk))
                for station_id, beat in chunk.items():
                    self._pending.setdefault(station_id, beat)
                continue
            if correct:
                await self._correct_disagreeing(chunk, views)

    async def _write(self, beats: dict[uuid.UUID, Beat]) -> dict[uuid.UUID, StationView]:
        async with self._database.transaction() as db:
            seen = {station_id: (beat.at, beat.metrics) for station_id, beat in beats.items()}
            await stations.record_heartbeats(db, seen)
            locked = await stations.tamper_locked(db, beats.keys())
            active = await sessions.sold_on(db, locked.keys())
            believed = {beat.session_id for beat in beats.values() if beat.session_id is not None}
            ended = await sessions.ended_at(db, believed - {sid for sid, _ in active.values()})
        self.flushes += 1
        return {
            station_id: _view(beats[station_id], active.get(station_id), ended, is_locked)
            for station_id, is_locked in locked.items()
        }

    async def _correct_disagreeing(
        self, beats: dict[uuid.UUID, Beat], views: dict[uuid.UUID, StationView]
    ) -> None:
        for station_id, beat in beats.items():
            view = views.get(station_id)  # none: the station was archived meanwhile
            if view is None or not disagrees(beat, view):
                continue
            try:
                await self._correct(station_id, beat)
            except Exception:
                log.exception("heartbeat correction failed", station_id=str(station_id))


def _view(
    beat: Beat,
    active: tuple[uuid.UUID, datetime] | None,
    ended: dict[uuid.UUID, datetime | None],
    tamper_locked: bool,
) -> StationView:
    session_id, sold_at = active if active is not None else (None, None)
    ended_at = ended.get(beat.session_id) if beat.session_id is not None else None
    changes = [at for at in (sold_at, ended_at) if at is not None]
    return StationView(session_id, tamper_locked, max(changes) if changes else None)


def _chunks(beats: dict[uuid.UUID, Beat], size: int) -> Iterator[dict[uuid.UUID, Beat]]:
    items = iter(beats.items())
    while chunk := dict(itertools.islice(items, size)):
        yield chunk
