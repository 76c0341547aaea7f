"""The relay and the bus on their own: order, marking sent, pruning, and dropping repeats."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gameops.server.bus import Envelope, EventBus, InProcessBus, RedisBus, Subscription
from gameops.server.db.engine import Database, create_engine
from gameops.server.db.models import OutboxMessage
from gameops.server.outbox.relay import OutboxRelay
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
        left = await db.scalar(select(func.count()).select_from(OutboxMessage))
    assert left == 0  # sent, then pruned (kept for 0 minutes)
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
