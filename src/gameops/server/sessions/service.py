"""Selling, extending, stopping and expiring time on a station (flows 1-4 of the design).

Each function runs inside one transaction: the session, its payment, the station's status,
the audit events and the command to the station commit together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.context import AppContext
from gameops.server.db.models import GameSession, Payment, Station, User
from gameops.server.errors import BadRequest, Conflict, NotFound
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.payments.domain import PaymentPurpose
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.payments.service import take_cash
from gameops.server.sessions import repository
from gameops.server.sessions.domain import (
    EndReason,
    SessionStatus,
    check_duration,
    check_extension,
    price_minor_units,
    scheduled_end,
)
from gameops.server.sessions.schemas import SessionCharged, SessionPublic, SessionStartRequest
from gameops.server.stations import service as stations
from gameops.server.stations.domain import (
    StationStatus,
    StationType,
    ensure_sellable,
    status_after_session,
)

OFFLINE_WARNING = "The station's agent is offline; it will start the session when it reconnects."


async def start_session(
    context: AppContext, db: AsyncSession, request: SessionStartRequest, actor: User
) -> SessionCharged:
    check_duration(request.duration_minutes, context.settings.max_session_minutes)
    station = await stations.get_station(db, request.station_id, lock=True)
    ensure_sellable(station.status)
    customer = await _customer(db, request.user_id)
    now = utc_now()
    session = GameSession(
        id=uuid.uuid4(),
        station_id=station.id,
        user_id=customer.id if customer else None,
        status=SessionStatus.ACTIVE,
        started_at=now,
        scheduled_end_at=scheduled_end(now, request.duration_minutes),
        duration_minutes=request.duration_minutes,
        extended_minutes=0,
        amount_total=price_minor_units(station.hourly_rate, request.duration_minutes),
        currency=context.settings.currency,
        created_by=actor.id,
    )
    session.user = customer
    db.add(session)
    await _flush_one_active(db)
    payment = take_cash(
        db,
        session,
        session.amount_total,
        request.duration_minutes,
        PaymentPurpose.SESSION_START,
        actor.id,
    )
    stations.set_status(db, station, StationStatus.IN_SESSION, actor_id=actor.id, reason="session")
    record_event(
        db,
        EventType.SESSION_CREATED,
        station_id=station.id,
        session_id=session.id,
        actor_id=actor.id,
        data=_timing(session, duration_minutes=request.duration_minutes),
    )
    await context.controllers.for_station(station).session_started(db, station, session)
    await db.flush()  # fills server-side defaults the response shows
    return _charged(session, payment, station)


async def extend_session(
    context: AppContext, db: AsyncSession, session_id: uuid.UUID, minutes: int, actor: User
) -> SessionCharged:
    session = await get_session(db, session_id, lock=True)
    status = session.status
    if status is SessionStatus.ACTIVE and session.scheduled_end_at <= utc_now():
        status = SessionStatus.EXPIRED  # due: its expiry is being processed right now
    check_extension(status, session.booked_minutes, minutes, context.settings.max_session_minutes)
    station = await stations.get_station(db, session.station_id, lock=True)
    amount = price_minor_units(station.hourly_rate, minutes)
    session.extended_minutes += minutes
    session.scheduled_end_at += timedelta(minutes=minutes)
    session.amount_total += amount
    payment = take_cash(db, session, amount, minutes, PaymentPurpose.SESSION_EXTENSION, actor.id)
    record_event(
        db,
        EventType.SESSION_EXTENDED,
        station_id=station.id,
        session_id=session.id,
        actor_id=actor.id,
        data=_timing(session, additional_minutes=minutes),
    )
    await context.controllers.for_station(station).session_extended(db, station, session, minutes)
    await db.flush()
    return _charged(session, payment, station)


async def stop_session(
    context: AppContext, db: AsyncSession, session_id: uuid.UUID, actor: User
) -> SessionPublic:
    session = await get_session(db, session_id, lock=True)
    if session.status is not SessionStatus.ACTIVE:
        raise BadRequest("Session already ended")
    station = await stations.get_station(db, session.station_id, lock=True)
    session.status = SessionStatus.STOPPED
    session.actual_end_at = utc_now()
    session.end_reason = EndReason.MANUAL_STOP.value
    _release_station(db, station, actor.id)
    record_event(
        db,
        EventType.SESSION_ENDED,
        station_id=station.id,
        session_id=session.id,
        actor_id=actor.id,
        data=_timing(session, reason=EndReason.MANUAL_STOP.value),
    )
    await context.controllers.for_station(station).session_stopped(db, station, session)
    return SessionPublic.model_validate(session)


async def expire_session(context: AppContext, db: AsyncSession, session_id: uuid.UUID) -> bool:
    """Expire a due session. Returns False if it was not due or another worker got it."""
    if not await repository.claim_expiry(db, session_id, utc_now()):
        return False
    session = await get_session(db, session_id)
    station = await stations.get_station(db, session.station_id, lock=True)
    _release_station(db, station, actor_id=None)
    record_event(
        db,
        EventType.SESSION_EXPIRED,
        station_id=station.id,
        session_id=session.id,
        data=_timing(session, reason=EndReason.EXPIRED.value),
    )
    await context.controllers.for_station(station).session_expired(db, station, session)
    return True


async def get_session(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> GameSession:
    session = await repository.get(db, session_id, lock=lock)
    if session is None:
        raise NotFound("Session not found")
    return session


def _release_station(db: AsyncSession, station: Station, actor_id: uuid.UUID | None) -> None:
    idle = status_after_session(station.status, station.type, station.agent_connected)
    stations.set_status(db, station, idle, actor_id=actor_id, reason="session ended")


async def _customer(db: AsyncSession, user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def _flush_one_active(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as err:
        # The partial unique index: another request sold this station a moment ago.
        raise Conflict("Station is busy") from err


def _timing(session: GameSession, **extra: object) -> dict[str, object]:
    return {
        "scheduled_end_at": session.scheduled_end_at.isoformat(),
        "booked_minutes": session.booked_minutes,
        "amount_total": session.amount_total,
        **extra,
    }


def _charged(session: GameSession, payment: Payment, station: Station) -> SessionCharged:
    is_pc = station.type is StationType.PC
    return SessionCharged.model_validate(
        {
            **SessionPublic.model_validate(session).model_dump(exclude={"remaining_seconds"}),
            "payment": PaymentPublic.model_validate(payment),
            "agent_connected": station.agent_connected if is_pc else None,
            "warnings": [OFFLINE_WARNING] if is_pc and not station.agent_connected else [],
        }
    )
