"""The relay and the bus on their own: order, marking sent, pruning, and dropping repeats."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Literal, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.bus import (
    AGENT_COMMANDS,
    EVENTS,
    Envelope,
    EventBus,
    InProcessBus,
    RedisBus,
    Subscription,
)
from gameops.server.db.engine import Database, create_engine
from gameops.server.db.models import OutboxMessage
from gameops.server.outbox.relay import Committed, OutboxRelay
from gameops.server.outbox.store import stage
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(database_url))
    yield database
    await database.dispose()


async def _received(subscription: Subscription, count: int) -> list[dict[str, object]]:
    messages = []
    async with asyncio.timeout(5):
        async for message in subscription:
            messages.append(message)
            if len(messages) == count:
                break
    return messages


async def test_relay_publishes_in_commit_order_marks_sent_and_prunes(database: Database) -> None:
    bus = InProcessBus()
    subscription = bus.subscribe("test")
    relay = OutboxRelay(
        database,
        bus,
        asyncio.Event(),
        poll_seconds=0.05,
        keep_sent=timedelta(0),
        prune_every_seconds=0,
    )
    for n in range(3):
        async with database.transaction() as db:
            stage(db, "test", {"n": n})
    await relay.drain()
    assert [m["n"] for m in await _received(subscription, 3)] == [0, 1, 2]
    async with database.sessionmaker() as db:
        left = list(await db.scalars(select(OutboxMessage.id)))
    assert len(left) == 1  # sent, then pruned (kept for 0 minutes) but for the newest...
    async with database.transaction() as db:
        stage(db, "test", {"n": 3})
    async with database.sessionmaker() as db:
        assert await db.scalar(select(func.max(OutboxMessage.id))) == left[0] + 1  # ...
    # ...so that ids are never handed out again (the bus would drop them as repeats)
    assert relay.published == 3 and relay.lag_seconds() == 0


async def test_a_rolled_back_transaction_publishes_nothing(database: Database) -> None:
    bus = InProcessBus()
    subscription = bus.subscribe("test")
    relay = OutboxRelay(database, bus, asyncio.Event(), poll_seconds=1, keep_sent=timedelta(1))
    with pytest.raises(RuntimeError):
        async with database.transaction() as db:
            stage(db, "test", {"n": "lost"})
            raise RuntimeError("the change failed")
    async with database.transaction() as db:
        stage(db, "test", {"n": "kept"})
    await relay.drain()
    assert await _received(subscription, 1) == [{"n": "kept"}]


@pytest.fixture(params=["in-process", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "in-process":
        bus: EventBus = InProcessBus()
    else:
        require_service("Redis", REDIS_HOST, REDIS_PORT)
        bus = RedisBus(f"redis://{REDIS_HOST}:{REDIS_PORT}/0", f"test-{uuid.uuid4().hex[:8]}:")
    await bus.start()
    yield bus
    await bus.close()


async def test_a_message_published_twice_is_delivered_once(bus: EventBus) -> None:
    subscription = bus.subscribe("test")
    await bus.publish_batch([Envelope("test", {"n": 1}, 1), Envelope("test", {"n": 2}, 2)])
    # The relay published these but could not mark them sent: it publishes them again.
    await bus.publish_batch([Envelope("test", {"n": 1}, 1), Envelope("test", {"n": 2}, 2)])
    await bus.publish_batch([Envelope("test", {"n": 3}, 3)])
    assert [m["n"] for m in await _received(subscription, 3)] == [1, 2, 3]


class _WatchedWake(asyncio.Event):
    """The relay's wake event, telling the test once the relay waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waited_on = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.waited_on.set()
        return await super().wait()


class _StuckBus(InProcessBus):
    """A bus whose publish never answers and, like a driver stuck in a thread, does not
    unwind when cancelled: only ``let_go`` ends it."""

    def __init__(self) -> None:
        super().__init__()
        self.publishing = asyncio.Event()
        self.let_go = asyncio.Event()

    async def publish_batch(self, batch: Sequence[Envelope]) -> None:
        self.publishing.set()
        while not self.let_go.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await self.let_go.wait()


async def _stops_within(relay: OutboxRelay, seconds: float) -> bool:
    stopping = asyncio.create_task(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=seconds)
    return bool(done)


async def test_stop_ends_the_relay_when_a_commit_wakes_it_in_the_same_turn(
    database: Database,
) -> None:
    # Shutdown: the last commits (acks flushed, stations let go) wake the relay, and stop
    # cancels it in the same loop turn. Python 3.11's asyncio.wait_for swallowed that cancel,
    # the relay ran on, and stop waited on it for ever.
    wake = _WatchedWake()
    relay = OutboxRelay(database, InProcessBus(), wake, poll_seconds=60, keep_sent=timedelta(1))
    relay.start()
    await asyncio.wait_for(wake.waited_on.wait(), 5)
    wake.set()
    await asyncio.sleep(0)  # one turn: the wake has fired; the relay has not run yet
    stopped = await _stops_within(relay, 10)
    assert relay._task is not None
    relay._task.cancel()  # if the relay ran on, end it for the next test
    assert stopped, "OutboxRelay.stop did not return"
    assert relay._task.cancelled()


async def test_stop_returns_in_its_bound_when_the_bus_never_answers(database: Database) -> None:
    bus = _StuckBus()
    relay = OutboxRelay(
        database, bus, asyncio.Event(), poll_seconds=0.05, keep_sent=timedelta(1), stop_seconds=0.5
    )
    async with database.transaction() as db:
        stage(db, "test", {"n": 1})
    relay.start()
    await asyncio.wait_for(bus.publishing.wait(), 5)
    try:
        # The bound is 0.5 s (+ 1 s for the lock); 10 s is slack for a busy machine.
        assert await _stops_within(relay, 10), "OutboxRelay.stop did not return"
    finally:
        # The stuck bus swallowed the relay's cancel: let it go, and end the relay for good
        # (a cancel that lands while the bus lets go is swallowed too: cancel till it ends).
        bus.let_go.set()
        assert relay._task is not None
        for _ in range(50):
            relay._task.cancel()
            if (await asyncio.wait({relay._task}, timeout=0.1))[0]:
                break
        await relay._leader.release()  # PostgreSQL: the lock the relay took again meanwhile


async def _committed_database(database_url: str, bus: EventBus, deliver_here: bool) -> Database:
    return Database(
        create_engine(database_url),
        committed=Committed(bus, asyncio.Event(), deliver_here=deliver_here),
    )


async def test_one_process_hands_agent_commands_over_at_the_commit(database_url: str) -> None:
    """The agent's command is on its way before the relay looks (here: never, it is stuck);
    the relay's publish of the same rows later is dropped; other channels wait for it, and a
    rolled back transaction hands nothing over."""
    bus = InProcessBus()
    commands, feed = bus.subscribe(AGENT_COMMANDS), bus.subscribe(EVENTS)
    database = await _committed_database(database_url, bus, deliver_here=True)
    try:
        with pytest.raises(RuntimeError):
            async with database.transaction() as db:
                stage(db, AGENT_COMMANDS, {"n": "rolled back"})
                raise RuntimeError("the change failed")
        async with database.transaction() as db:
            stage(db, AGENT_COMMANDS, {"n": 1})
            stage(db, EVENTS, {"n": "feed"})
        async with database.transaction() as db:
            stage(db, AGENT_COMMANDS, {"n": 2})
        assert [m["n"] for m in await _received(commands, 2)] == [1, 2]
        assert feed._queue.empty()  # the feed's row goes with the relay
        relay = OutboxRelay(database, bus, asyncio.Event(), poll_seconds=1, keep_sent=timedelta(1))
        await relay.drain()
        assert relay.published == 3
        assert await _received(feed, 1) == [{"n": "feed"}]
        async with database.transaction() as db:
            stage(db, AGENT_COMMANDS, {"n": 3})
        assert await _received(commands, 1) == [{"n": 3}]  # not 1 and 2 again
    finally:
        await database.dispose()


async def test_replicas_hand_nothing_over_at_the_commit(database_url: str) -> None:
    """With several replicas a command handed over at once could overtake an earlier one
    for the same agent still on its way from another replica: the relay sends it."""
    bus = InProcessBus()
    commands = bus.subscribe(AGENT_COMMANDS)
    database = await _committed_database(database_url, bus, deliver_here=False)
    try:
        async with database.transaction() as db:
            stage(db, AGENT_COMMANDS, {"n": 1})
        assert commands._queue.empty()
        relay = OutboxRelay(database, bus, asyncio.Event(), poll_seconds=1, keep_sent=timedelta(1))
        await relay.drain()
        assert await _received(commands, 1) == [{"n": 1}]
    finally:
        await database.dispose()


def _committed_with(n: int) -> AsyncSession:
    """A finished transaction that staged one agent command, ``{"n": n}``, with id ``n``."""
    message = OutboxMessage(id=n, channel=AGENT_COMMANDS, payload={"n": n})
    return cast(AsyncSession, SimpleNamespace(info={"gameops_outbox_staged": [message]}))


async def test_hand_overs_keep_the_commit_order_whichever_session_closes_first() -> None:
    bus = InProcessBus()
    commands = bus.subscribe(AGENT_COMMANDS)
    committed = Committed(bus, asyncio.Event(), deliver_here=True)
    first_closed, second_closed = committed(_committed_with(1)), committed(_committed_with(2))
    assert first_closed is not None and second_closed is not None
    second_closed()
    assert commands._queue.empty()  # waits for the transaction committed before it
    first_closed()
    assert [m["n"] for m in await _received(commands, 2)] == [1, 2]
