"""The outbox relay: publishes committed outbox rows to the bus in id order and marks them
sent. Woken at once by a commit in this process (the ``wake`` event the database sets), and
every ``poll_seconds`` for rows other replicas wrote. When the bus or the database fails it
retries from the first unsent row, so after an outage it catches up in order; a row
published but not yet marked sent may go out twice, and the bus drops the repeat by its id.

With several replicas on PostgreSQL one relay publishes at a time (the holder of an
advisory lock), so the stream has one order and no double traffic. Every transaction that
staged messages sends a NOTIFY with its commit (``store.announce``) and the holder LISTENs
on its lock's connection: it is woken by another replica's commit at once, not at its next
poll (the poll stays, for a notification lost with a connection).

A server that is the only process (the in-process bus) does not make its agents wait for
the relay: :class:`Committed` hands the agent commands of each of its transactions to the
agents' sockets as soon as the transaction is done, and the relay's publish of the same rows
later is dropped as a repeat. The row stays the durable record (a crash between the commit
and the hand-over loses nothing; the relay sends it after the restart) and the order is
kept: with one process, transactions hand over in the order they commit, and two about one
station commit in turn (``events/dispatch.py`` locks the station).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from gameops.protocol import utc_now
from gameops.server.bus import AGENT_COMMANDS, Envelope, EventBus
from gameops.server.db.engine import Database
from gameops.server.jobs import finish_within
from gameops.server.outbox import store

log = structlog.get_logger(__name__)
BATCH = 500
# Any constant unique to GameOps among the venue database's advisory locks.
RELAY_LOCK_KEY = 0x6A6D_0B0C
# How long ``OutboxRelay.stop`` gives the advisory lock's connection to close.
RELEASE_SECONDS = 1.0


class Committed:
    """Told at each commit in this process (``Database(committed=...)``): wakes the relay
    if the transaction staged messages and, if ``deliver_here``, hands its agent commands
    to this process's subscribers once its session is closed. Only for a server that is the
    only process: with several replicas a command sent here at once could overtake an
    earlier one for the same agent still on its way from another replica.

    Hand-overs keep the order of the commits even when one session takes longer to close
    than the next (each waits for those committed before it). Handed over once closed, not
    at the commit: an agent hears the answer to its own message (sent when its transaction
    is done) before the commands that transaction caused, as it did through the relay.
    """

    def __init__(self, bus: EventBus, wake: asyncio.Event, *, deliver_here: bool) -> None:
        self._bus = bus
        self._wake = wake
        self._deliver_here = deliver_here
        self._handovers: deque[_Handover] = deque()  # in commit order

    def __call__(self, db: AsyncSession) -> Callable[[], None] | None:
        messages = store.staged(db)
        if not messages:
            return None
        self._wake.set()
        if not self._deliver_here:  # several replicas: the relay sends them all
            return None
        commands = [
            Envelope(m.channel, m.payload, m.id) for m in messages if m.channel == AGENT_COMMANDS
        ]
        if not commands:
            return None
        handover = _Handover(commands)
        self._handovers.append(handover)
        return lambda: self._ready(handover)

    def _ready(self, handover: _Handover) -> None:
        handover.ready = True
        while self._handovers and self._handovers[0].ready:
            self._bus.deliver_here(self._handovers.popleft().commands)


@dataclass
class _Handover:
    commands: list[Envelope]
    ready: bool = False


class RelayLeader:
    """Only the holder of a PostgreSQL advisory lock relays. The lock lives on one held
    connection: if that connection dies (the database restarted) the lock is freed and a
    relay takes it again. That connection also listens for the commits' notifications."""

    def __init__(self, engine: AsyncEngine, wake: asyncio.Event) -> None:
        self._engine = engine
        self._wake = wake
        self._connection: AsyncConnection | None = None
        self._held = False

    async def holds(self) -> bool:
        if self._held:
            return True
        if self._connection is None:
            connection = await self._engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        got = await self._connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY}
        )
        self._held = bool(got)
        if self._held:
            await self._listen(self._connection)
        return self._held

    async def _listen(self, connection: AsyncConnection) -> None:
        raw = (await connection.get_raw_connection()).driver_connection
        if raw is not None:
            await raw.add_listener(store.COMMITTED_CHANNEL, self._notified)

    def _notified(self, *_notification: object) -> None:
        self._wake.set()

    async def release(self) -> None:
        """Drop the connection, and with it the lock (after an error it may be dead). It is
        closed for good, not returned to the pool, where it would keep holding the lock."""
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()


class SoleRelay:
    """SQLite: one server process, so its relay is the only one."""

    async def holds(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        bus: EventBus,
        wake: asyncio.Event,
        *,
        poll_seconds: float,
        keep_sent: timedelta,
        prune_every_seconds: float = 60.0,
        stop_seconds: float = 5.0,
    ) -> None:
        self._database = database
        self._bus = bus
        self._poll = poll_seconds
        self._keep_sent = keep_sent
        self._prune_every = prune_every_seconds
        self._stop_seconds = stop_seconds
        self._leader: RelayLeader | SoleRelay = (
            SoleRelay()
            if database.engine.dialect.name == "sqlite"
            else RelayLeader(database.engine, wake)
        )
        # Set by the database after every commit in this process.
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        # Read by /health and /metrics.
        self.publish_failures = 0
        self.published = 0
        self.waiting_since: datetime | None = None

    def lag_seconds(self) -> float:
        """How long the oldest unsent message has waited, as of the relay's last look."""
        if self.waiting_since is None:
            return 0.0
        return max(0.0, (utc_now() - self.waiting_since).total_seconds())

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Sends what is committed by now (best effort), then stops: within ``stop_seconds``
        plus ``RELEASE_SECONDS`` whatever the bus and the database do. A part that has not
        answered by then is cancelled and left behind (``jobs.finish_within``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._stop_seconds
        stopped = True
        if self._task is not None:
            self._task.cancel()
            stopped = await finish_within(self._task, self._stop_seconds, "outbox relay loop")
        if stopped:  # else the loop is stuck on the bus or the database: so would a drain be
            await finish_within(self.drain(), deadline - loop.time(), "outbox final drain")
        await finish_within(self._leader.release(), RELEASE_SECONDS, "outbox relay lock release")

    async def _run(self) -> None:
        failures = 0
        while True:
            # Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that comes in
            # the loop turn the wake fires (CPython gh-86296), and the relay would run on
            # after ``stop`` cancelled it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures += 1
                if failures == 1:
                    log.warning("outbox relay failed; retrying", error=repr(err)[:300])
                await self._leader.release()
                await asyncio.sleep(min(2.0, 0.1 * 2**failures))

    async def drain(self) -> None:
        """Publish every committed unsent message, oldest first."""
        if not await self._leader.holds():
            return
        while True:
            async with self._database.sessionmaker() as db:
                rows = await store.unsent(db, BATCH)
            self.waiting_since = rows[0].created_at if rows else None
            if rows:
                await self._publish(rows)
            if len(rows) < BATCH:
                break
        self.waiting_since = None
        await self._prune_now_and_then()

    async def _publish(self, rows: Sequence[store.Unsent]) -> None:
        batch = [Envelope(row.channel, row.payload, row.id) for row in rows]
        try:
            await self._bus.publish_batch(batch)
        except Exception:
            self.publish_failures += 1
            raise
        async with self._database.sessionmaker() as db, db.begin():
            await store.mark_sent(db, [row.id for row in rows], utc_now())
        self.published += len(rows)

    async def _prune_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < self._prune_every:
            return
        self._pruned_at = now
        async with self._database.sessionmaker() as db, db.begin():
            await store.prune_sent_before(db, utc_now() - self._keep_sent)
