"""Station control: how a session reaches the thing that enforces it.

The session code calls one :class:`StationController` per station and never learns whether
a PC agent, a smart plug or a router is behind it. Calls run inside the session's
transaction: a controller that raises aborts the change (nothing charged, nothing started).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import GameSession, Station
from gameops.server.stations.domain import StationType


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
    def __init__(self, by_type: dict[StationType, StationController]) -> None:
        self._by_type = by_type

    def for_station(self, station: Station) -> StationController:
        return self._by_type[station.type]
