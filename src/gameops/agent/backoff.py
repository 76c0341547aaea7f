"""Reconnect delays: exponential backoff with full jitter, so that a thousand agents whose
server restarted do not all come back in the same second."""

from __future__ import annotations

import random


class Backoff:
    """``next_delay()`` is uniform in [0, min(cap, base * 2**attempt)]; ``reset()`` after a
    connection that proved good."""

    def __init__(self, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        # min() before the power would overflow after ~1000 attempts; stop growing at the cap.
        if self.base * 2 ** min(self.attempt, 32) >= self.cap:
            return self.cap
        return float(self.base * 2**self.attempt)

    def next_delay(self) -> float:
        delay = self._rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def spread(self, seconds: float) -> float:
        """A random delay in [0, seconds], for reconnects the server asked for."""
        return self._rng.uniform(0, seconds)

    def reset(self) -> None:
        self.attempt = 0
