"""How many wrong guesses (PIN, password, ticket code) a station and an account may make:
the small interface the login rule is written against, and its implementation on the
server's rate limiter (``gameops.server.throttle``, the ``limits`` library; shared by every
replica through Redis when it is set).

The keys are ``station:<id>`` and ``account:<name>``. Only failures count, so a customer
who typed the PIN right is never slowed by the limit unless someone guessed first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from gameops.server.throttle import Rule, Throttle, Throttled


class LoginThrottle(Protocol):
    async def retry_after(self, keys: Iterable[str]) -> float | None:
        """Seconds to wait if any key is over its limit now; None if all may try."""
        ...

    async def failed(self, keys: Iterable[str]) -> bool:
        """Count a failure against each key; True once per window when one crossed its limit
        (a burst, worth one line on the floor)."""
        ...


class PcLoginThrottle:
    """``per_minute`` wrong guesses per station and per account in a moving minute."""

    def __init__(self, throttle: Throttle, per_minute: int) -> None:
        self._throttle = throttle
        self._rule = Rule.of("pc-login", f"{per_minute} per minute")

    async def retry_after(self, keys: Iterable[str]) -> float | None:
        waits = []
        for key in keys:
            try:
                await self._throttle.check(self._rule, key)
            except Throttled as throttled:
                waits.append(float(throttled.retry_after))
        return max(waits) if waits else None

    async def failed(self, keys: Iterable[str]) -> bool:
        burst = False
        for key in keys:
            await self._throttle.fail(self._rule, key)
            try:
                await self._throttle.check(self._rule, key)
            except Throttled as throttled:
                burst |= throttled.first
        return burst
