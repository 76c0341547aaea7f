"""Admission control for agent handshakes: when more are in progress than the server can
finish promptly (every PC of a venue reconnecting after a restart), a new one is told at
once to come back after a delay, instead of queueing until it times out.

Every refusal costs the server a whole HTTP upgrade, and a refused agent that comes back
while the server is still full is refused again. So the delays are appointments: the
server knows how fast it finishes handshakes (``capacity`` in progress, each taking about
``latency``: Little's law), and hands out return times that far apart, one after the
other, so that the agents it turned away come back about when there is room for them,
not all at once and not long after the storm is over.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

MIN_DELAY_SECONDS = 1.0
# Agents give up on nothing and wait at most a minute; leave room for their own spread.
MAX_DELAY_SECONDS = 30.0
# Before the first handshake has finished, assume one takes this long.
FIRST_LATENCY_SECONDS = 1.0
# How much a newly finished handshake moves the latency estimate.
LATENCY_WEIGHT = 0.05
# Returns spread over this much more than their slot (no two agents meet by the second).
JITTER_SECONDS = 0.5


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
        self.latency = FIRST_LATENCY_SECONDS  # a handshake's, smoothed
        self._rng = rng or random.Random()
        self._clock = clock
        self._entered: deque[float] = deque()  # when the handshakes in progress began
        self._booked_until = 0.0  # the last return time handed out

    def enter(self) -> float | None:
        if self.in_progress < self.capacity:
            self.in_progress += 1
            self._entered.append(self._clock())
            return None
        return self.turn_away()

    def leave(self) -> None:
        """A handshake ended: its room is free, and its time updates the estimate."""
        self.in_progress -= 1
        # Which handshake ended is not known; any began about a latency ago, under load.
        began = self._entered.popleft() if self._entered else self._clock()
        took = max(self._clock() - began, 0.001)
        self.latency += LATENCY_WEIGHT * (took - self.latency)

    @property
    def rate(self) -> float:
        """Handshakes the server finishes a second when full (Little's law)."""
        return self.capacity / self.latency

    def turn_away(self) -> float:
        """The seconds a refused agent should wait (busy, or its handshake failed): the next
        free return time, each one a handshake's share of a second after the last."""
        now = self._clock()
        self.refused += 1
        slot = max(now + MIN_DELAY_SECONDS, self._booked_until)
        if slot - now > MAX_DELAY_SECONDS - JITTER_SECONDS:
            # Booked out: more waiting than fits. Spread the rest over the whole range.
            return self._rng.uniform(MIN_DELAY_SECONDS, MAX_DELAY_SECONDS)
        self._booked_until = slot + 1 / self.rate
        return slot - now + self._rng.uniform(0, JITTER_SECONDS)
