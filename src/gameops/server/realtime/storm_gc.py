"""The garbage collector during a storm of agent handshakes.

Every connected agent is some 140 objects the collector tracks. While thousands connect, the
heap grows by a quarter again and again, and each time CPython runs a full collection that
walks all of it: every connection made so far, over and over (10,000 agents: 1.4 million
objects, about a second each time on this machine). Those objects are alive; walking them
finds nothing.

So while handshakes pour in, what has survived so far is moved out of the collector's sight
every tick (``gc.freeze``, which only moves a list). Once the storm has passed it is handed
back (``gc.unfreeze``) and collected as usual: what died meanwhile in a reference cycle
(about 40 objects per connection that ended) is freed then, not kept for good. (Handed back
with it: what ``runner.serve`` froze at start-up.)
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Protocol

from gameops.server.jobs import Periodic

# Handshakes finished a second above which agents are storming in.
STORM_RATE = 50.0
# Quiet for this long: the storm has passed.
QUIET_SECONDS = 30.0
TICK_SECONDS = 1.0


class Collector(Protocol):
    def freeze(self) -> None: ...
    def unfreeze(self) -> None: ...


class StormCollector:
    """``tick`` every ``TICK_SECONDS``: freeze while ``rate()`` (handshakes finished a
    second) is at least ``STORM_RATE``; unfreeze once it has been below for ``QUIET_SECONDS``."""

    def __init__(
        self,
        rate: Callable[[], float],
        collector: Collector = gc,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._gc = collector
        self._clock = clock
        self.frozen = False
        self._storm_seen_at = 0.0
        self._ticks = Periodic("storm-gc", TICK_SECONDS, self._tick_async)

    def start(self) -> None:
        self._ticks.start()

    async def stop(self) -> None:
        """No more ticks; what is frozen is handed back to the collector."""
        await self._ticks.stop()
        if self.frozen:
            self._gc.unfreeze()
            self.frozen = False

    async def _tick_async(self) -> None:
        self.tick()

    def tick(self) -> None:
        now = self._clock()
        if self._rate() >= STORM_RATE:
            self._gc.freeze()
            self.frozen, self._storm_seen_at = True, now
        elif self.frozen and now - self._storm_seen_at >= QUIET_SECONDS:
            self._gc.unfreeze()
            self.frozen = False
