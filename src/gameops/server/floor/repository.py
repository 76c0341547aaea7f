from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gameops.server.db.models import Event, GameSession, Payment, Station
from gameops.server.events.domain import EventType
from gameops.server.payments.domain import PaymentStatus
from gameops.server.sessions.domain import SessionStatus

# A station's card shows the newest of these; a recovery clears what came before it.
# (By name: the device events arrive with the consoles work and may not exist yet.)
ALERT_NAMES = ("AGENT_ERROR", "AGENT_TAMPER", "DEVICE_ERROR")
CLEAR_NAMES = ("DEVICE_RECOVERED", "TAMPER_LOCK_CLEARED")  # staff saw to it
WATCHED_TYPES = tuple(t for t in EventType if t.value in ALERT_NAMES + CLEAR_NAMES)


async def live_stations(
    db: AsyncSession, only: Sequence[uuid.UUID] | None = None
) -> Sequence[Station]:
    """Stations not archived; with ``only``, just those of them."""
    query = select(Station).where(Station.archived_at.is_(None))
    if only is not None:
        query = query.where(Station.id.in_(only))
    rows = await db.scalars(query.order_by(Station.zone, Station.name))
    return rows.all()


# Sessions that hold a station: running, or sold by card and waiting for the payment.
HOLDING = (SessionStatus.ACTIVE, SessionStatus.PENDING_PAYMENT)


async def holding_sessions(
    db: AsyncSession, only: Sequence[uuid.UUID] | None = None
) -> Sequence[GameSession]:
    """Every session that holds a station (of ``only``, if given), with its customer loaded."""
    query = (
        select(GameSession)
        .where(GameSession.status.in_(HOLDING))
        .options(selectinload(GameSession.user))
    )
    if only is not None:
        query = query.where(GameSession.station_id.in_(only))
    return (await db.scalars(query)).all()


async def pending_payments(
    db: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """session id -> its payment waiting for the card (a start or an extension)."""
    if not session_ids:
        return {}
    query = select(Payment.session_id, Payment.id).where(
        Payment.session_id.in_(session_ids), Payment.status == PaymentStatus.PENDING
    )
    return {row.session_id: row.id for row in await db.execute(query) if row.session_id}


async def alerts_since(
    db: AsyncSession, since: datetime, only: Sequence[uuid.UUID] | None = None
) -> Sequence[Event]:
    """Agent and device errors, tamper reports and recoveries since ``since`` (of the
    stations ``only``, if given), newest first."""
    query = (
        select(Event)
        .where(Event.type.in_(WATCHED_TYPES), Event.created_at >= since)
        .order_by(Event.id.desc())
    )
    if only is not None:
        query = query.where(Event.station_id.in_(only))
    return (await db.scalars(query)).all()
