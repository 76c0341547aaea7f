"""Station control: how a session reaches the thing that enforces it.

The session code calls one :class:`StationController` per station and never learns whether
a PC agent, a smart plug or a router is behind it. Calls run inside the session's
transaction: a controller that raises aborts the change (nothing charged, nothing started).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.control.reconcile import ConsoleWatch
from gameops.server.db.models import GameSession, Station
from gameops.server.stations.domain import StationType

if TYPE_CHECKING:
    from gameops.server.context import AppContext
    from gameops.server.control.consoles import ConsoleController
    from gameops.server.control.secrets import DeviceSecrets


class StationController(Protocol):
    async def session_started(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None: ...

    async def session_extended(
        self, db: AsyncSession, station: Station, session: GameSession, added_minutes: int
    ) -> None: ...

    async def session_stopped(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None: ...

    async def session_expired(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None: ...


class NoDeviceController:
    """Consoles until a plug or router driver is configured: the session is only booked."""

    async def session_started(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        return None

    async def session_extended(
        self, db: AsyncSession, station: Station, session: GameSession, added_minutes: int
    ) -> None:
        return None

    async def session_stopped(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        return None

    async def session_expired(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        return None


class ControllerRegistry:
    """Picks each station's controller: by type, or its plug/router if it names one."""

    def __init__(
        self,
        by_type: dict[StationType, StationController],
        consoles: ConsoleController | None = None,
        secrets: DeviceSecrets | None = None,
    ) -> None:
        self._by_type = by_type
        self.consoles = consoles
        self.secrets = secrets
        self._watch: ConsoleWatch | None = None

    def for_station(self, station: Station) -> StationController:
        if station.type is StationType.CONSOLE and station.controller and self.consoles:
            return self.consoles
        return self._by_type[station.type]

    async def start(self, context: AppContext) -> None:
        """Starts the console watch (reconciliation, power monitoring) if consoles are on."""
        if self.consoles is not None:
            self.consoles.bind(context)
            self._watch = ConsoleWatch(context, self.consoles)
            self._watch.start()

    async def stop(self) -> None:
        if self._watch is not None:
            await self._watch.stop()
        if self.consoles is not None:
            await self.consoles.close()
