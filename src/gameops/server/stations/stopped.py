"""Watching stations whose client was stopped: is the PC still on the network? The venue's
router (MikroTik, if configured) is asked whether it sees any of the PC's MACs (from the
agent's hello). Device I/O happens between two short transactions, never inside one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.devices.errors import DeviceError
from gameops.protocol import utc_now
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.stations import repository

log = structlog.get_logger(__name__)

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class NetworkView(Protocol):
    async def sees(self, macs: list[str]) -> str | None: ...


async def check_stopped_clients(transaction: Transaction, router: NetworkView) -> int:
    """Ask the router about every stopped client; returns how many it still sees."""
    async with transaction() as db:
        stopped = await repository.stopped_clients(db)
    seen: dict[uuid.UUID, str | None] = {}
    for station_id, macs in stopped:
        try:
            seen[station_id] = await router.sees(macs) if macs else None
        except DeviceError as err:
            log.warning("venue router lookup failed", error=str(err))
            return 0
    async with transaction() as db:
        for station_id, mac in seen.items():
            await _record(db, station_id, mac)
    return sum(mac is not None for mac in seen.values())


async def _record(db: AsyncSession, station_id: uuid.UUID, mac: str | None) -> None:
    station = await repository.get_live(db, station_id, lock=True)
    if station is None or station.agent_stop is None or station.agent_connected:
        return  # back, or gone, since the lookup
    before = station.agent_stop.get("router_sees")
    station.agent_stop = {
        **station.agent_stop,
        "router_sees": mac is not None,
        "router_checked_at": utc_now().isoformat(),
    }
    if before != (mac is not None):  # staff screens hear of a change, not of every check
        data = {"seen": mac is not None, "mac": mac}
        record_event(db, EventType.STOPPED_CLIENT_ON_NETWORK, station_id=station_id, data=data)
