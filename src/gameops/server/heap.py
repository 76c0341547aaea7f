"""The garbage collector and a heap of 10,000 connections.

Every connected agent is some 140 objects the collector tracks: 1.4 million at 10,000 agents.
CPython's full collection walks all of them (two seconds on a 2-core box) each time the
objects promoted to the oldest generation have grown by a quarter since the last one. Under
load that is every 15-20 s: in a burst of expiries, the server stood still for two seconds
each time and the expiry lag's p99 went from 50 ms to 2 s. Those objects are alive; walking
them finds nothing.

So the old heap is kept frozen (``gc.freeze``, which only moves a list): right after each
full collection, what survived it leaves the collector's sight, and the next full collection
walks only what has come since. While handshakes pour in (a storm), the survivors are frozen
every tick as well. Frozen objects are still freed when nothing refers to them; only a
reference cycle among them (about 40 objects of each connection that ends) waits for the
sweep: every ``SWEEP_SECONDS``, outside a storm, the heap is handed back (``gc.unfreeze``)
and the next full collection walks it all once, a pause of a second or two at 10,000
agents, then freezes again.

Every collection's pause is reported (``on_pause``: the metrics' histogram).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from gameops.server.jobs import Periodic

log = structlog.get_logger(__name__)
# Handshakes finished a second above which agents are storming in.
STORM_RATE = 50.0
# Quiet for this long: the storm has passed.
QUIET_SECONDS = 30.0
# How often the frozen heap is handed back for one full walk (its dead cycles freed).
SWEEP_SECONDS = 3600.0
TICK_SECONDS = 1.0
# A pause this long is logged as well.
LOGGED_PAUSE_SECONDS = 0.25
OLDEST = 2


class Collector(Protocol):
    callbacks: list[Any]  # called with ("start" | "stop", {"generation": ..., ...})

    def freeze(self) -> None: ...
    def unfreeze(self) -> None: ...


class FrozenHeap:
    """``tick`` every ``TICK_SECONDS``; the collector's callback freezes after each full
    collection. ``rate()``: handshakes finished a second."""

    def __init__(
        self,
        rate: Callable[[], float],
        on_pause: Callable[[int, float], None],
        collector: Collector = gc,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._on_pause = on_pause
        self._gc = collector
        self._clock = clock
        self.frozen = False
        self._storm_seen_at = -QUIET_SECONDS
        self._swept_at = clock()
        self._collecting_since = 0.0
        self._long_pauses: list[tuple[int, float]] = []
        self._ticks = Periodic("frozen-heap", TICK_SECONDS, self._tick_async)

    def start(self) -> None:
        self._gc.callbacks.append(self._on_collection)
        self._ticks.start()

    async def stop(self) -> None:
        """No more ticks or freezing; what is frozen is handed back to the collector."""
        await self._ticks.stop()
        if self._on_collection in self._gc.callbacks:
            self._gc.callbacks.remove(self._on_collection)
        if self.frozen:
            self._gc.unfreeze()
            self.frozen = False

    async def _tick_async(self) -> None:
        self.tick()

    def tick(self) -> None:
        long_pauses, self._long_pauses = self._long_pauses, []
        for generation, pause in long_pauses:
            log.warning(
                "garbage collection paused the server",
                generation=generation,
                seconds=round(pause, 3),
            )
        now = self._clock()
        if self._rate() >= STORM_RATE:
            self._freeze()
            self._storm_seen_at = now
        elif (
            self.frozen
            and now - self._swept_at >= SWEEP_SECONDS
            and now - self._storm_seen_at >= QUIET_SECONDS
        ):
            self._gc.unfreeze()  # the next full collection walks it all, then freezes
            self.frozen = False
            self._swept_at = now

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._collecting_since = time.perf_counter()
            return
        pause = time.perf_counter() - self._collecting_since
        generation = int(info["generation"])
        self._on_pause(generation, pause)
        if pause >= LOGGED_PAUSE_SECONDS:
            # Logged at the next tick: here it would carry the context (request, station)
            # of whatever happened to allocate when the collection started.
            self._long_pauses.append((generation, pause))
        if generation == OLDEST:
            # The younger generations were collected with it: empty now. What is left has
            # survived a full walk.
            self._freeze()

    def _freeze(self) -> None:
        self._gc.freeze()
        self.frozen = True
