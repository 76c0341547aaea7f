"""What an agent's connection changes in the database: online/offline, last seen, specs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import Station
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.stations import service as stations
from gameops.server.stations import tamper as defences
from gameops.server.stations.domain import status_after_agent_presence


def connected(
    db: AsyncSession, station: Station, connection_id: uuid.UUID, accepted_at: datetime
) -> bool:
    """``station`` (locked) is now served by ``connection_id``, accepted at ``accepted_at``:
    online, audited. False, and nothing written, if the station's connection was accepted
    later (this one's handshake was slow and its agent has moved on: it is stale)."""
    if _owned_by_newer(station, connection_id, accepted_at):
        return False
    station.agent_connected = True
    station.agent_connection_id = connection_id
    station.agent_connected_since = accepted_at
    station.last_seen_at = utc_now()
    defences.agent_back(station)
    _follow_presence(db, station, "agent connected")
    record_event(
        db,
        EventType.AGENT_CONNECTED,
        station_id=station.id,
        data={"connection_id": str(connection_id)},
    )
    return True


def disconnected(db: AsyncSession, station: Station, connection_id: uuid.UUID, reason: str) -> bool:
    """``station`` (locked) offline, unless a newer connection (here or on another replica)
    owns it."""
    if station.agent_connection_id != connection_id:
        return False
    station.agent_connected = False
    station.agent_connection_id = None
    station.agent_connected_since = None
    if station.agent_stop is not None:  # it said goodbye first: stopped, not lost
        reason = f"client stopped ({station.agent_stop.get('reason')})"
    _follow_presence(db, station, reason)
    record_event(
        db,
        EventType.AGENT_DISCONNECTED,
        station_id=station.id,
        data={"connection_id": str(connection_id), "reason": reason},
    )
    return True


async def sweep_stale(db: AsyncSession, silent_for: timedelta) -> int:
    """Mark offline the stations whose agent has said nothing for ``silent_for``.

    A live connection refreshes ``last_seen_at`` with every heartbeat (written in batches,
    ``heartbeats.py``: at most a flush behind) and is closed by its own server after one
    interval less of silence; what this finds are rows left "connected" by a
    server process that died without closing them.
    """
    cutoff = utc_now() - silent_for
    query = (
        select(Station)
        .where(Station.agent_connected.is_(True), Station.last_seen_at < cutoff)
        .order_by(Station.id)  # locked in id order, as everywhere
        .with_for_update()
    )
    stale = (await db.scalars(query)).all()
    for station in stale:
        if station.agent_connection_id is not None:
            disconnected(db, station, station.agent_connection_id, "no heartbeat (server lost)")
    return len(stale)


def said_hello(station: Station, version: str, os_name: str, specs: dict[str, Any]) -> None:
    """What the agent's hello says about its PC, on ``station`` (locked)."""
    station.agent_version = version
    station.specs = {**specs, "os": os_name}
    station.last_seen_at = utc_now()


def _owned_by_newer(station: Station, connection_id: uuid.UUID, accepted_at: datetime) -> bool:
    """The station's current connection was accepted after ``accepted_at`` (the same order
    as the hub's, ``hub.accepted_later``: equal times go by connection id)."""
    since, current = station.agent_connected_since, station.agent_connection_id
    if since is None or current is None:
        return False
    return (since, current.int) > (accepted_at, connection_id.int)


def _follow_presence(db: AsyncSession, station: Station, reason: str) -> None:
    status = status_after_agent_presence(station.status, station.type, station.agent_connected)
    stations.set_status(db, station, status, reason=reason)
