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
from gameops.devices.routeros import RouterOs
from gameops.protocol import utc_now
from gameops.server.control.devices import router_tls
from gameops.server.events.base import record
from gameops.server.jobs import Periodic
from gameops.server.settings import Settings
from gameops.server.stations import repository
from gameops.server.stations.events import StoppedClientOnNetwork

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
        record(db, StoppedClientOnNetwork(station_id=station_id, seen=mac is not None, mac=mac))


class StoppedClientWatch:
    """The periodic check, with its router connection; built only when one is configured."""

    def __init__(self, transaction: Transaction, router: RouterOs, seconds: float) -> None:
        self._router = router
        self._job = Periodic(
            "stopped-clients", seconds, lambda: check_stopped_clients(transaction, router)
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, transaction: Transaction
    ) -> StoppedClientWatch | None:
        if settings.venue_router_host is None:
            return None
        password = settings.venue_router_password
        tls = router_tls(verify=settings.venue_router_tls_verify)
        router = RouterOs(
            settings.venue_router_host,
            settings.venue_router_port,
            username=settings.venue_router_username,
            password=password.get_secret_value() if password else "",
            ssl_context=tls if settings.venue_router_tls else None,
        )
        return cls(transaction, router, settings.stopped_client_check_seconds)

    def start(self) -> None:
        self._job.start()

    async def stop(self) -> None:
        await self._job.stop()
        await self._router.shutdown()
