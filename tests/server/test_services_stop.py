"""The server's stop is bounded: a replica exits within 15 s of SIGTERM, whatever a part does."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest

from gameops.server.app import STOP_SECONDS, build_services
from gameops.server.bus import EventBus
from gameops.server.settings import Settings


class _StuckBusClose:
    """Closes the real bus, then hangs like a driver stuck in a thread: it does not answer
    and does not unwind when cancelled, until ``let_go``."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self.closing = asyncio.Event()
        self.let_go = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._bus, name)

    async def close(self) -> None:
        await self._bus.close()
        self.closing.set()
        while not self.let_go.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await self.let_go.wait()


# The bound is the same on both backends, and this test waits it out: SQLite alone.
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_stop_ends_in_its_bound_and_stops_every_part_when_one_hangs(
    settings: Settings,
) -> None:
    services = build_services(settings)
    await services.start()
    stuck = _StuckBusClose(services.bus)
    services = dataclasses.replace(services, bus=stuck)  # type: ignore[arg-type]
    pool = services.database.engine.pool
    stopping = asyncio.create_task(services.stop())
    try:
        # The bound is STOP_SECONDS plus a little per part; 5 s more is slack for a busy box.
        done, _ = await asyncio.wait({stopping}, timeout=STOP_SECONDS + 5)
        assert done, "Services.stop did not return"
        assert stuck.closing.is_set()
        # The parts after the stuck one were stopped anyway: the database is disposed (its
        # engine got a new, empty pool).
        assert services.database.engine.pool is not pool
    finally:
        stuck.let_go.set()
        await asyncio.wait({stopping}, timeout=5)
