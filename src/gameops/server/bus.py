"""The internal event bus: how one server process tells every process about a change.

Two implementations behind one interface: :class:`InProcessBus` (the embedded default, one
process) and :class:`RedisBus` (several replicas share Redis pub/sub). Nothing else may
assume which one runs, nor that there is one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

EVENTS = "events"  # audit events, for dashboards and the expiry scheduler
AGENT_COMMANDS = "agent"  # {"station_id", "frame"}: delivered by whoever holds that agent
PRESENCE = "presence"  # {"station_id", "connection_id"}: a new connection replaces older ones

Message = dict[str, Any]


class Subscription:
    """A bounded queue of one channel's messages. A consumer that falls behind is cut off
    (``overflowed``) rather than letting the bus grow without bound."""

    def __init__(self, channel: str, maxsize: int) -> None:
        self.channel = channel
        self.overflowed = False
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize)

    def deliver(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue.get_nowait()
            self._queue.put_nowait(None)

    def end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while (message := await self._queue.get()) is not None:
            yield message


class EventBus(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def publish(self, channel: str, message: Message) -> None: ...
    def subscribe(self, channel: str, maxsize: int = 10_000) -> Subscription: ...
    def unsubscribe(self, subscription: Subscription) -> None: ...
    async def ping(self) -> None: ...


class _LocalFanout:
    """Hands a message to every subscription of its channel in this process."""

    def __init__(self) -> None:
        self._subscriptions: defaultdict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, channel: str, maxsize: int = 10_000) -> Subscription:
        subscription = Subscription(channel, maxsize)
        self._subscriptions[channel].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.channel].discard(subscription)
        subscription.end()

    def dispatch(self, channel: str, message: Message) -> None:
        for subscription in tuple(self._subscriptions[channel]):
            subscription.deliver(message)

    def end_all(self) -> None:
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.end()
        self._subscriptions.clear()


class InProcessBus(_LocalFanout):
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.end_all()

    async def publish(self, channel: str, message: Message) -> None:
        self.dispatch(channel, message)

    async def ping(self) -> None:
        return None


class RedisBus(_LocalFanout):
    """Publishes through Redis; one reader task per process hands messages to local
    subscribers, so delivery order is Redis's order for every process alike."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        await self._redis.ping()
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self.end_all()
        await self._redis.aclose()

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(message, default=str))

    async def ping(self) -> None:
        await self._redis.ping()

    async def _read(self) -> None:
        while True:
            try:
                await self._read_until_error()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus reader failed; resubscribing")
                await asyncio.sleep(1)

    async def _read_until_error(self) -> None:
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.psubscribe(self._prefix + "*")
            self._subscribed.set()
            async for raw in pubsub.listen():
                channel = str(raw["channel"]).removeprefix(self._prefix)
                self.dispatch(channel, json.loads(raw["data"]))


def create_bus(redis_url: str | None, prefix: str) -> EventBus:
    return RedisBus(redis_url, prefix) if redis_url else InProcessBus()
