"""What the app builds once at start-up and hands to requests, sockets and background jobs."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gameops.server.bus import EventBus
from gameops.server.db.engine import transaction
from gameops.server.settings import Settings

if TYPE_CHECKING:
    from gameops.server.control.base import ControllerRegistry
    from gameops.server.realtime.acks import AckRecorder
    from gameops.server.realtime.hub import AgentHub
    from gameops.server.sessions.expiry import ExpiryScheduler


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    jwt_secret: str
    controllers: ControllerRegistry = field(init=False)
    hub: AgentHub = field(init=False)
    acks: AckRecorder = field(init=False)
    expiry: ExpiryScheduler = field(init=False)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        return transaction(self.sessionmaker, self.bus)
