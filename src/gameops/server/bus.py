"""The internal event bus: how one server process tells every process about a change.

Two implementations behind one interface: :class:`InProcessBus` (the embedded default, one
process) and :class:`RedisBus` (several replicas share a Redis stream). Nothing else may
assume which one runs, nor that there is one process. Changes reach the bus through the
outbox (``outbox/relay.py``), never straight from a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

EVENTS = "events"  # audit events, for the dashboards' live feed
DOMAIN = "domain"  # typed domain events (events/base.py), for subscribers on every replica
AGENT_COMMANDS = "agent"  # {"station_id", "frame"}: delivered by whoever holds that agent
PRESENCE = "presence"  # {"station_id", "connection_id"}: a new connection replaces older ones
READ_BLOCK_SECONDS = 1.0
STREAM_IDLE_SECONDS = 24 * 3600
RETRY_SECONDS = 0.5

Message = dict[str, Any]


@dataclass(frozen=True)
class Envelope:
    channel: str
    message: Message
    id: int | None = None  # the outbox row's id; None for messages not from the outbox


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
    async def publish_batch(self, batch: Sequence[Envelope]) -> None:
        """Publish in this order; each envelope's id lets consumers drop a repeat."""
        ...

    def subscribe(self, channel: str, maxsize: int = 10_000) -> Subscription: ...
    def deliver_here(self, batch: Sequence[Envelope]) -> None:
        """Hand ``batch`` to this process's subscribers only, now; a later publish of the
        same ids is dropped here."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None: ...
    async def ping(self) -> None: ...


class SeenIds:
    """The last ``size`` message ids: a message published twice (the relay retrying after
    it could not mark a batch sent) is delivered once."""

    def __init__(self, size: int = 100_000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def first_time(self, message_id: int) -> bool:
        if message_id in self._ids:
            return False
        self._ids.add(message_id)
        self._order.append(message_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True


class _LocalFanout:
    """Hands a message to every subscription of its channel in this process, once."""

    def __init__(self) -> None:
        self._subscriptions: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._seen = SeenIds()

    def subscribe(self, channel: str, maxsize: int = 10_000) -> Subscription:
        subscription = Subscription(channel, maxsize)
        self._subscriptions[channel].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.channel].discard(subscription)
        subscription.end()

    def deliver_here(self, batch: Sequence[Envelope]) -> None:
        for envelope in batch:
            self.dispatch(envelope.channel, envelope.message, envelope.id)

    def dispatch(self, channel: str, message: Message, message_id: int | None = None) -> None:
        if message_id is not None and not self._seen.first_time(message_id):
            return
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

    async def publish_batch(self, batch: Sequence[Envelope]) -> None:
        self.deliver_here(batch)

    async def ping(self) -> None:
        return None


class RedisBus(_LocalFanout):
    """One Redis stream carries every channel, so every process reads the same order. Each
    process reads on from the last entry it saw: after Redis was unreachable it catches up
    on what was published meanwhile instead of losing it (as pub/sub would)."""

    def __init__(self, url: str, prefix: str, stream_length: int = 100_000) -> None:
        super().__init__()
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        # Bounded waits: an unreachable Redis fails a publish in seconds, never hangs it.
        # One retry on a fresh connection: after an outage the pool still holds dead ones.
        self._redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=READ_BLOCK_SECONDS + 4,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._stream = prefix + "bus"
        self._stream_length = stream_length
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        latest: Any = await self._redis.xrevrange(self._stream, count=1)
        last_id = str(latest[0][0]) if latest else "0-0"
        self._reader = asyncio.create_task(self._read(last_id), name="redis-bus-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self.end_all()
        await self._redis.aclose()

    async def publish(self, channel: str, message: Message) -> None:
        await self.publish_batch([Envelope(channel, message)])

    async def publish_batch(self, batch: Sequence[Envelope]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for envelope in batch:
                fields = {"channel": envelope.channel, "data": json.dumps(envelope.message)}
                if envelope.id is not None:
                    fields["id"] = str(envelope.id)
                pipe.xadd(self._stream, fields, maxlen=self._stream_length, approximate=True)  # type: ignore[arg-type]
            # A stream nobody writes to for a day (a venue gone, a test run over) goes away.
            pipe.expire(self._stream, STREAM_IDLE_SECONDS)
            await pipe.execute()

    async def ping(self) -> None:
        await self._redis.ping()

    async def _read(self, last_id: str) -> None:
        failing = False
        while True:
            try:
                # RESP2: [[stream, [(entry_id, fields), ...]]] (decode_responses: strings)
                answer: Any = await self._redis.xread(
                    {self._stream: last_id}, count=500, block=int(READ_BLOCK_SECONDS * 1000)
                )
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if not failing:
                    log.warning("redis bus unreachable; reading on when it is back", error=str(err))
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if failing:
                log.info("redis bus reachable again", after=last_id)
                failing = False
            for _, entries in answer:
                for entry_id, fields in entries:
                    last_id = entry_id
                    self._deliver(fields)

    def _deliver(self, fields: dict[str, str]) -> None:
        try:
            message = json.loads(fields["data"])
            message_id = int(fields["id"]) if "id" in fields else None
        except (KeyError, ValueError):
            log.warning("unreadable bus entry skipped", fields=str(fields)[:200])
            return
        self.dispatch(fields.get("channel", ""), message, message_id)


def create_bus(redis_url: str | None, prefix: str) -> EventBus:
    return RedisBus(redis_url, prefix) if redis_url else InProcessBus()
