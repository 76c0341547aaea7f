"""Retry delays and a circuit breaker. Pure: the clock is passed in, nothing sleeps here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def backoff_delays(retries: int, base: float, cap: float = 5.0) -> list[float]:
    """Delays before each retry: ``base``, doubling, never above ``cap``."""
    return [min(cap, base * 2**attempt) for attempt in range(retries)]


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once, so a dead device costs nothing
    HALF_OPEN = "half_open"  # one probe is let through to see if it came back


@dataclass
class CircuitBreaker:
    failure_threshold: int
    reset_after: float
    failures: int = 0
    opened_at: float | None = None

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allows(self, now: float) -> bool:
        return self.state(now) is not BreakerState.OPEN

    def succeeded(self) -> None:
        self.failures, self.opened_at = 0, None

    def failed(self, now: float) -> None:
        """Counts a failure; at the threshold (or a failed probe) the breaker opens anew."""
        self.failures += 1
        if self.failures >= self.failure_threshold or self.opened_at is not None:
            self.opened_at = now
