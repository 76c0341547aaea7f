"""Admission control for agent handshakes: when more are in progress than the server can
finish promptly (every PC of a venue reconnecting after a restart), a new one is told at
once to come back after a jittered delay, instead of queueing until it times out."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

MIN_DELAY_SECONDS = 1.0
# Agents give up on nothing and wait at most a minute; leave room for their own spread.
MAX_DELAY_SECONDS = 30.0
WINDOW_SECONDS = 10.0


def retry_ceiling(refused_recently: int, capacity: int) -> float:
    """The longest delay to hand out: grows with how many were turned away lately, so that a
    storm of ten thousand is spread over tens of seconds and a brief rush over a few."""
    spread = MIN_DELAY_SECONDS + refused_recently / max(capacity, 1)
    return min(MAX_DELAY_SECONDS, max(2 * MIN_DELAY_SECONDS, spread))


class Admission:
    """At most ``capacity`` handshakes at once; ``enter`` answers None (go ahead, then call
    ``leave``) or the seconds the refused agent should wait."""

    def __init__(
        self,
        capacity: int,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.in_progress = 0
        self.refused = 0
        self._rng = rng or random.Random()
        self._clock = clock
        self._refusals: deque[float] = deque()

    def enter(self) -> float | None:
        if self.in_progress < self.capacity:
            self.in_progress += 1
            return None
        return self.turn_away()

    def turn_away(self) -> float:
        """The seconds a refused agent should wait (busy, or its handshake failed), spread
        wider the more were turned away lately."""
        now = self._clock()
        while self._refusals and self._refusals[0] < now - WINDOW_SECONDS:
            self._refusals.popleft()
        self._refusals.append(now)
        self.refused += 1
        ceiling = retry_ceiling(len(self._refusals), self.capacity)
        return self._rng.uniform(MIN_DELAY_SECONDS, ceiling)

    def leave(self) -> None:
        self.in_progress -= 1
