"""PCs are controlled through their agent: each session event becomes a protocol command,
stored in the session's transaction and put in the outbox with it, then delivered by
whichever server holds the agent's connection. An offline agent picks its session up with
``sync_request``."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import (
    Payload,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionInfo,
    SessionStart,
    TamperClear,
    as_data,
    encode,
    utc_now,
)
from gameops.server.bus import AGENT_COMMANDS
from gameops.server.db.models import AgentCommand, GameSession, Station
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.outbox.store import stage
from gameops.server.sessions import events
from gameops.server.sessions.service import customer_name
from gameops.server.stations.domain import StationType
from gameops.server.stations.events import TamperLockCleared


def session_info(session: GameSession) -> SessionInfo:
    return SessionInfo(
        id=session.id,
        started_at=session.started_at,
        scheduled_end_at=session.scheduled_end_at,
        duration_minutes=session.booked_minutes,
        user_name=customer_name(session),
    )


def expired_message(session: GameSession, grace_seconds: int) -> SessionExpired:
    return SessionExpired(
        id=session.id, grace_seconds=grace_seconds, ended_at=session.actual_end_at
    )


def ended_message(session: GameSession) -> SessionEnd:
    return SessionEnd(
        id=session.id,
        ended_at=session.actual_end_at or utc_now(),
        reason=session.end_reason or "manual_stop",
    )


def send_command(
    db: AsyncSession, station_id: uuid.UUID, session_id: uuid.UUID | None, payload: Payload
) -> None:
    command = AgentCommand(
        id=uuid.uuid4(),
        station_id=station_id,
        session_id=session_id,
        type=payload.TYPE,
        payload=as_data(payload),
    )
    db.add(command)
    message = {"station_id": str(station_id), "frame": encode(payload, command.id)}
    stage(db, AGENT_COMMANDS, {**message, "type": payload.TYPE})


class PcAgentControl:
    """Turns the session events of PC stations into agent commands."""

    def __init__(self, logoff_grace_seconds: int) -> None:
        self._grace = logoff_grace_seconds

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.handle(events.SessionStarted, self.started)
        dispatcher.handle(events.SessionExtended, self.extended)
        dispatcher.handle(events.SessionEnded, self.ended)
        dispatcher.handle(events.SessionExpired, self.expired)
        dispatcher.handle(TamperLockCleared, self.tamper_cleared)

    async def started(self, db: AsyncSession, event: events.SessionStarted) -> None:
        message = SessionStart(
            id=event.session_id,
            started_at=event.started_at,
            scheduled_end_at=event.scheduled_end_at,
            duration_minutes=event.booked_minutes,
            user_name=event.customer_name,
            server_time=utc_now(),
        )
        await self._send(db, event.station_id, event.session_id, message)

    async def extended(self, db: AsyncSession, event: events.SessionExtended) -> None:
        message = SessionExtended(
            id=event.session_id,
            extended_minutes=event.additional_minutes,
            new_end_time=event.scheduled_end_at,
            server_time=utc_now(),
        )
        await self._send(db, event.station_id, event.session_id, message)

    async def ended(self, db: AsyncSession, event: events.SessionEnded) -> None:
        message = SessionEnd(id=event.session_id, ended_at=event.ended_at, reason=event.reason)
        await self._send(db, event.station_id, event.session_id, message)

    async def expired(self, db: AsyncSession, event: events.SessionExpired) -> None:
        message = SessionExpired(
            id=event.session_id, grace_seconds=self._grace, ended_at=event.ended_at
        )
        await self._send(db, event.station_id, event.session_id, message)

    async def tamper_cleared(self, db: AsyncSession, event: TamperLockCleared) -> None:
        message = TamperClear(cleared_at=utc_now(), cleared_by=event.cleared_by)
        send_command(db, event.station_id, None, message)

    async def _send(
        self, db: AsyncSession, station_id: uuid.UUID, session_id: uuid.UUID, message: Payload
    ) -> None:
        station = await db.get(Station, station_id)
        if station is not None and station.type is StationType.PC:
            send_command(db, station_id, session_id, message)
