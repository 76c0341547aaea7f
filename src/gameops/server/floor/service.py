"""Assembling the floor: stations, their active sessions and recent alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import Event, GameSession
from gameops.server.floor import repository
from gameops.server.floor.schemas import Floor, FloorAlert, FloorSession, FloorStation
from gameops.server.sessions.domain import SessionStatus, seconds_left
from gameops.server.stations.schemas import StationPublic

# An agent or device error, or a tamper report, stays on the station's card this long
# (a device's recovery clears it sooner).
ALERT_WINDOW = timedelta(minutes=15)


async def read_floor(db: AsyncSession, only: Sequence[uuid.UUID] | None = None) -> Floor:
    """The whole floor, or with ``only`` just those stations (the dashboard re-reads the
    stations an event touched, not the floor)."""
    now = utc_now()
    stations = await repository.live_stations(db, only)
    sessions = {s.station_id: s for s in await repository.holding_sessions(db, only)}
    pending = await repository.pending_payments(db, [s.id for s in sessions.values()])
    latest: dict[uuid.UUID, Event] = {}
    for event in await repository.alerts_since(db, now - ALERT_WINDOW, only):
        if event.station_id is not None:
            latest.setdefault(event.station_id, event)  # newest first: keep the first seen
    alerts = {k: e for k, e in latest.items() if e.type.value in repository.ALERT_NAMES}
    items = [
        FloorStation(
            **StationPublic.model_validate(station).model_dump(),
            session=_session(sessions[station.id], pending, now)
            if station.id in sessions
            else None,
            alert=_alert(alerts[station.id]) if station.id in alerts else None,
        )
        for station in stations
    ]
    return Floor(server_time=now, stations=items)


def _session(
    session: GameSession, pending: dict[uuid.UUID, uuid.UUID], now: datetime
) -> FloorSession:
    customer = session.user
    return FloorSession(
        id=session.id,
        status=session.status,
        pending_payment_id=pending.get(session.id),
        started_at=session.started_at,
        scheduled_end_at=session.scheduled_end_at,
        remaining_seconds=_remaining(session, now),
        booked_minutes=session.booked_minutes,
        amount_total=session.amount_total,
        currency=session.currency,
        customer_id=customer.id if customer else None,
        customer_name=(customer.full_name or customer.username) if customer else None,
        waiting_since=session.waiting_since,
        start_overdue=session.start_overdue_at is not None,
    )


def _alert(event: Event) -> FloorAlert:
    return FloorAlert(
        event_id=event.id, type=event.type, created_at=event.created_at, data=event.data
    )


def _remaining(session: GameSession, now: datetime) -> int:
    if session.status is not SessionStatus.ACTIVE:
        return 0
    if session.waiting_since is not None:
        return session.booked_minutes * 60  # nothing used yet: the clock has not started
    return int(seconds_left(session.scheduled_end_at, now))
