"""How many failed logins a station and an account may have: a small interface the login
rule is written against, and its implementation on the ``limits`` library.

The keys are ``station:<id>`` and ``account:<name>`` (or ``ticket:<station id>``). Only
failures count; a correct login is never slowed by someone else's typos beyond the limit.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle(Protocol):
    def retry_after(self, keys: Iterable[str]) -> float | None:
        """Seconds to wait if any key is over its limit now; None if all may try."""
        ...

    def failed(self, keys: Iterable[str]) -> bool:
        """Count a failure against each key; True if this one crossed a limit (a burst)."""
        ...


class LimitsThrottle:
    """``per_minute`` failures per key in a moving one-minute window, in this process.
    (Several replicas each count their own: a station talks to one replica at a time.)"""

    def __init__(self, per_minute: int) -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, keys: Iterable[str]) -> float | None:
        waits = [self._wait(key) for key in keys if not self._limiter.test(self._item, key)]
        return max(waits) if waits else None

    def failed(self, keys: Iterable[str]) -> bool:
        crossed = False
        for key in keys:
            if not self._limiter.hit(self._item, key):
                continue
            crossed |= not self._limiter.test(self._item, key)
        return crossed

    def _wait(self, key: str) -> float:
        reset_at = self._limiter.get_window_stats(self._item, key).reset_time
        return max(1.0, reset_at - time.time())
