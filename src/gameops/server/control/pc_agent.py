"""PCs are controlled through their agent: each change becomes a protocol command, stored
with the session's transaction and delivered after commit by whichever server holds the
agent's connection. An offline agent picks its session up with ``sync_request``."""

from __future__ import annotations

import uuid

from msgspec import structs
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import (
    Payload,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionInfo,
    SessionStart,
    as_data,
    encode,
    utc_now,
)
from gameops.server.bus import AGENT_COMMANDS
from gameops.server.db.engine import after_commit
from gameops.server.db.models import AgentCommand, GameSession, Station


def customer_name(session: GameSession) -> str | None:
    """The name the agent greets; the customer must be loaded (relationships never lazy-load)."""
    user = session.user
    return (user.full_name or user.username) if user is not None else None


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
    frame = encode(payload, command.id)
    after_commit(db, AGENT_COMMANDS, lambda: {"station_id": str(station_id), "frame": frame})


class PcAgentController:
    def __init__(self, logoff_grace_seconds: int) -> None:
        self._grace = logoff_grace_seconds

    async def session_started(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        message = SessionStart(**structs.asdict(session_info(session)), server_time=utc_now())
        send_command(db, station.id, session.id, message)

    async def session_extended(
        self, db: AsyncSession, station: Station, session: GameSession, added_minutes: int
    ) -> None:
        message = SessionExtended(
            id=session.id,
            extended_minutes=added_minutes,
            new_end_time=session.scheduled_end_at,
            server_time=utc_now(),
        )
        send_command(db, station.id, session.id, message)

    async def session_stopped(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        send_command(db, station.id, session.id, ended_message(session))

    async def session_expired(
        self, db: AsyncSession, station: Station, session: GameSession
    ) -> None:
        send_command(db, station.id, session.id, expired_message(session, self._grace))
