"""Rate limits on guesses: staff and customer logins, agent tokens (and later PC logins and
ticket codes), with the ``limits`` library's moving window.

With ``GAMEOPS_REDIS_URL`` set the windows live in Redis, shared by every replica, and each
hit is one atomic Lua script; otherwise in this process. A Redis outage never turns a login
into a 500: the throttle counts in this process until Redis answers again (a replica then
sees only its own share of the guesses, which still bounds them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

log = structlog.get_logger(__name__)

# After Redis failed, try it again only after this long (each try could wait a timeout).
RETRY_PRIMARY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Rule:
    """A named limit: ``Rule("login-account", parse("10 per 15 minutes"))``."""

    name: str
    limit: RateLimitItem

    @classmethod
    def of(cls, name: str, text: str) -> Rule:
        return cls(name, parse(text))


class Throttled(Exception):
    """A key used up its rule's window. ``first`` is true once per window and key: the
    moment to write one audit line for the burst, not one per refused guess."""

    def __init__(self, rule: Rule, key: str, retry_after: int, first: bool) -> None:
        super().__init__(f"{rule.name} {key}: retry after {retry_after} s")
        self.rule, self.key, self.retry_after, self.first = rule, key, retry_after, first


class Throttle:
    """What callers use: ``acquire`` (count an attempt, refuse past the limit, atomically),
    ``check`` (refuse if the window is used up), ``fail`` (count without refusing),
    ``reset`` (forget a key, as after a successful login)."""

    def __init__(
        self,
        primary: Storage,
        fallback: Storage | None = None,
        on_throttled: Callable[[Rule], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._primary = MovingWindowRateLimiter(primary)
        self._fallback = MovingWindowRateLimiter(fallback) if fallback is not None else None
        self._on_throttled = on_throttled or (lambda _: None)
        self._clock = clock
        self._primary_down_until = 0.0
        self._close = close

    async def close(self) -> None:
        if self._close is not None:
            await self._close()

    async def acquire(self, rule: Rule, key: str) -> None:
        if not await self._call("hit", rule, key):
            await self._refuse(rule, key)

    async def check(self, rule: Rule, key: str) -> None:
        if not await self._call("test", rule, key):
            await self._refuse(rule, key)

    async def fail(self, rule: Rule, key: str) -> None:
        await self._call("hit", rule, key)

    async def reset(self, rule: Rule, key: str) -> None:
        await self._call("clear", rule, key)

    async def _refuse(self, rule: Rule, key: str) -> None:
        stats = await self._call("get_window_stats", rule, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        # One more rule per rule: at most one "first" per window and key.
        announce = Rule(f"{rule.name}:announced", rule.limit.__class__(1, rule.limit.multiples))
        first = bool(await self._call("hit", announce, key))
        self._on_throttled(rule)
        raise Throttled(rule, key, retry_after, first)

    async def _call(self, method: str, rule: Rule, key: str) -> Any:
        limiter = self._primary
        if self._fallback is not None and self._clock() < self._primary_down_until:
            limiter = self._fallback
        try:
            return await getattr(limiter, method)(rule.limit, rule.name, key)
        except Exception as err:
            if limiter is not self._primary or self._fallback is None:
                raise
            if self._primary_down_until == 0.0 or self._clock() >= self._primary_down_until:
                log.warning("rate limits: Redis failed, counting in this process", error=repr(err))
            self._primary_down_until = self._clock() + RETRY_PRIMARY_SECONDS
            return await getattr(self._fallback, method)(rule.limit, rule.name, key)


def build_throttle(
    redis_url: str | None,
    prefix: str,
    on_throttled: Callable[[Rule], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Throttle:
    """In Redis (with a pool of our own: short timeouts, closed on stop) when it is set."""
    if redis_url is None:
        return Throttle(MemoryStorage(), on_throttled=on_throttled)
    pool = ConnectionPool.from_url(
        redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    scheme = redis_url.split("://", 1)[0]
    redis = RedisStorage(
        f"async+{scheme}://",
        implementation="redispy",
        key_prefix=f"{prefix}limits",
        connection_pool=pool,  # type: ignore[arg-type]  # passed on to redis-py
        wrap_exceptions=True,
    )
    return Throttle(redis, MemoryStorage(), on_throttled, clock, close=pool.disconnect)
