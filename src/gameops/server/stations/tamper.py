"""A station's defences as the server keeps them: the tamper lock (the agent fails closed
until staff clear it) and the agent's goodbye (a clean stop, with its reason).

The agent decides when tampering locks the station (it sees the overlay die); the server
keeps the lock so that it holds across the agent's restarts and lost state files, refuses
to sell time on the station meanwhile, and is where staff clear it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import Goodbye, Payload, Tamper, TamperClear, TamperLock, utc_now
from gameops.server.db.models import Station, User
from gameops.server.errors import Conflict
from gameops.server.events.base import record
from gameops.server.stations.domain import IN_USE_IDLE_SECONDS, stop_is_tamper
from gameops.server.stations.events import AgentStopped, AgentTampered, TamperLockCleared


def record_tamper(db: AsyncSession, station: Station, tamper: Tamper) -> None:
    """Every tamper report is an event; one that says the agent locked sets the lock."""
    report = AgentTampered(
        station_id=station.id,
        kind=tamper.kind,
        detail=tamper.detail,
        count=tamper.count,
        locks=tamper.lock,
    )
    record(db, report)
    if tamper.lock and station.tamper_locked_at is None:
        station.tamper_locked_at = utc_now()
        station.tamper_lock = {"kind": tamper.kind, "detail": tamper.detail}


async def clear_tamper_lock(db: AsyncSession, station: Station, actor: User) -> None:
    """Staff clear the lock: the agent is told (now by station control's command, or on its
    next sync or heartbeat) and may unlock."""
    if station.tamper_locked_at is None:
        raise Conflict("Station is not tamper-locked")
    lock = station.tamper_lock or {}
    cleared = TamperLockCleared(
        station_id=station.id,
        actor_id=actor.id,
        cleared_by=actor.username,
        locked_at=station.tamper_locked_at,
        kind=lock.get("kind"),
        detail=lock.get("detail"),
    )
    station.tamper_locked_at = station.tamper_lock = None
    record(db, cleared)  # station control tells the agent


def tamper_correction(station: Station, agent_locked: bool) -> Payload | None:
    """What to tell an agent whose idea of the tamper lock differs from the station's."""
    if station.tamper_locked_at is not None and not agent_locked:
        reason = (station.tamper_lock or {}).get("detail") or "tamper lock set by the server"
        return TamperLock(reason=str(reason)[:1000], locked_at=station.tamper_locked_at)
    if station.tamper_locked_at is None and agent_locked:
        return TamperClear(cleared_at=utc_now())
    return None


def record_goodbye(
    db: AsyncSession, station: Station, goodbye: Goodbye, running_session: uuid.UUID | None
) -> None:
    """AGENT_STOPPED, kept on the station until the agent is back; in paid time, a tamper."""
    in_use = goodbye.idle_seconds is not None and goodbye.idle_seconds <= IN_USE_IDLE_SECONDS
    stop: dict[str, Any] = {
        "reason": goodbye.reason,
        "by": goodbye.by,
        "users": goodbye.users,
        "idle_seconds": goodbye.idle_seconds,
        "in_use": in_use,
        "session_id": str(running_session) if running_session else None,
        "detail": goodbye.detail,
    }
    station.agent_stopped_at, station.agent_stop = utc_now(), stop
    record(db, AgentStopped(station_id=station.id, stop=stop))
    if stop_is_tamper(goodbye.reason, running_session is not None):
        detail = f"agent stopped ({goodbye.reason}) during a paid session"
        tampered = AgentTampered(
            station_id=station.id,
            session_id=running_session,
            kind="service_stopped",
            detail=detail,
            reason=goodbye.reason,
        )
        record(db, tampered)


def agent_back(station: Station) -> None:
    station.agent_stopped_at = station.agent_stop = None
