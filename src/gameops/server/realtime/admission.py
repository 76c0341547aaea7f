"""Admission control for agent handshakes: when more are in progress than the server can
finish promptly (every PC of a venue reconnecting after a restart), a new one is told at
once to come back after a delay, instead of queueing until it times out.

A handshake waiting for its batched database work costs the server nothing but memory;
a refusal costs it a whole HTTP upgrade, accept and close, and a refused agent that comes
back while the server is still full is refused again. So:

* As many handshakes are let in as the server finishes in ``TARGET_SECONDS`` (its measured
  rate), and never fewer than the configured ``minimum``: within an agent's patience,
  and the database batches grow with the storm.
* A refused agent is given an appointment: return times one handshake's share of a second
  apart (at the measured rate), one after the other, so that the agents turned away come
  back about when there is room for them, not all at once and not long after the storm.
* What it measured tells a server going away how fast to send its agents back
  (``reconnect_rate``): the most it finished a second, which its successor on this machine
  can take too (a reconnect writes less than a first connect).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

MIN_DELAY_SECONDS = 1.0
# The longest an agent waits because the server said so (``agent.link.BUSY_WAIT_LIMIT``).
MAX_DELAY_SECONDS = 55.0
# Booked out (more waiting than the server can take within the longest delay): the rest
# come back in the last this many seconds of it, to be booked then. Spread over the whole
# range instead, they came back again and again meanwhile, each time a whole upgrade.
OVERFLOW_SECONDS = 10.0
# Returns spread over this much more than their slot (no two agents meet by the second).
JITTER_SECONDS = 0.5
# Handshakes let in: as many as finish in this long. An agent waits 10 s for its hello;
# every one refused instead costs the server a whole upgrade and comes back to cost another.
TARGET_SECONDS = 5.0
MAX_CAPACITY = 5000
# The rate is measured over the handshakes finished this long before.
RATE_WINDOW_SECONDS = 5.0
# A rate is never measured over less than this (a burst of a few in a millisecond).
MIN_RATE_SPAN_SECONDS = 1.0
# Before any has finished, a handshake is assumed to take this long.
FIRST_LATENCY_SECONDS = 1.0
# How much a newly finished handshake moves the latency estimate.
LATENCY_WEIGHT = 0.05
# Agents are sent back at no fewer than this many a second, whatever was measured: a
# server that never saw a storm knows only that it took what came.
UNMEASURED_RECONNECTS_PER_SECOND = 250.0


class Admission:
    """At most ``capacity`` handshakes at once; ``enter`` answers None (go ahead, then call
    ``leave``) or the seconds the refused agent should wait."""

    def __init__(
        self,
        minimum: int,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.minimum = minimum
        self.in_progress = 0
        self.refused = 0
        self.latency = FIRST_LATENCY_SECONDS  # a handshake's, smoothed
        self._rng = rng or random.Random()
        self._clock = clock
        self._entered: deque[float] = deque()  # when the handshakes in progress began
        self._finished: deque[float] = deque()  # when handshakes finished, lately
        self._booked_until = 0.0  # the last return time handed out
        self._busiest = 0.0  # the highest rate measured

    def enter(self) -> float | None:
        if self.in_progress < self.capacity:
            self.in_progress += 1
            self._entered.append(self._clock())
            return None
        return self.turn_away()

    def reconnect_rate(self) -> float:
        """Handshakes a second this server's agents should come back at when it goes away:
        the most it finished a second (it took that many; so does a successor on this
        machine), and no fewer than ``UNMEASURED_RECONNECTS_PER_SECOND``: never spread
        out longer than before the rate was measured."""
        return max(UNMEASURED_RECONNECTS_PER_SECOND, self._busiest)

    def leave(self) -> None:
        """A handshake ended: its room is free, and it counts for the rate."""
        now = self._clock()
        self.in_progress -= 1
        self._finished.append(now)
        self._busiest = max(self._busiest, self.measured_rate)
        # Which handshake ended is not known; any began about a latency ago, under load.
        began = self._entered.popleft() if self._entered else now
        self.latency += LATENCY_WEIGHT * (max(now - began, 0.001) - self.latency)

    @property
    def measured_rate(self) -> float:
        """Handshakes finished a second, over the last few seconds: over the time since
        the first of them, so that a storm's first second counts as a second, not as a fifth
        of the window (10,000 agents at a cold start were booked at a fifth of the rate the
        server took, and half of them came back after 50 s)."""
        now = self._clock()
        horizon = now - RATE_WINDOW_SECONDS
        while self._finished and self._finished[0] < horizon:
            self._finished.popleft()
        if not self._finished:
            return 0.0
        return len(self._finished) / max(now - self._finished[0], MIN_RATE_SPAN_SECONDS)

    @property
    def rate(self) -> float:
        """Handshakes the server finishes a second: as measured, or, early in a storm (few
        finished yet), ``minimum`` at once, each taking its latency (at least a second)."""
        early = self.minimum / max(self.latency, FIRST_LATENCY_SECONDS)
        return max(self.measured_rate, early)

    @property
    def capacity(self) -> int:
        """As many as finish in ``TARGET_SECONDS`` at the measured rate, at least ``minimum``."""
        return min(MAX_CAPACITY, max(self.minimum, int(self.measured_rate * TARGET_SECONDS)))

    def turn_away(self) -> float:
        """The seconds a refused agent should wait (busy, or its handshake failed): the next
        free return time, each one a handshake's share of a second after the last."""
        now = self._clock()
        self.refused += 1
        slot = max(now + MIN_DELAY_SECONDS, self._booked_until)
        if slot - now > MAX_DELAY_SECONDS - JITTER_SECONDS:
            return self._rng.uniform(MAX_DELAY_SECONDS - OVERFLOW_SECONDS, MAX_DELAY_SECONDS)
        self._booked_until = slot + 1 / self.rate
        return slot - now + self._rng.uniform(0, JITTER_SECONDS)
