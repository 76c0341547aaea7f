from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from operator import attrgetter
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gameops.server.db.models import GameSession, Payment
from gameops.server.db.pages import fetch_page
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus
from gameops.server.sessions.domain import EndReason, SessionStatus


async def get(db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False) -> GameSession | None:
    query = select(GameSession).where(GameSession.id == session_id)
    if lock:
        query = query.with_for_update()
    session: GameSession | None = await db.scalar(query.execution_options(populate_existing=True))
    return session


async def active_on_station(
    db: AsyncSession, station_id: uuid.UUID, *, lock: bool = False
) -> GameSession | None:
    """The station's active session, with its customer loaded (locked: and read again)."""
    query = (
        select(GameSession)
        .where(GameSession.station_id == station_id, GameSession.status == SessionStatus.ACTIVE)
        .options(selectinload(GameSession.user))
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    session: GameSession | None = await db.scalar(query)
    return session


async def active_on_stations(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, GameSession]:
    """``active_on_station`` of many stations at once (those that have one)."""
    if not station_ids:
        return {}
    query = (
        select(GameSession)
        .where(GameSession.station_id.in_(station_ids), GameSession.status == SessionStatus.ACTIVE)
        .options(selectinload(GameSession.user))
    )
    return {session.station_id: session for session in await db.scalars(query)}


async def get_many(
    db: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, GameSession]:
    """The sessions of ``session_ids`` that exist, read afresh."""
    if not session_ids:
        return {}
    query = select(GameSession).where(GameSession.id.in_(session_ids))
    rows = await db.scalars(query.execution_options(populate_existing=True))
    return {session.id: session for session in rows}


async def sold_on(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, datetime]]:
    """station id -> its active session's id and when it was sold, for those that have one."""
    query = select(GameSession.station_id, GameSession.id, GameSession.created_at).where(
        GameSession.station_id.in_(station_ids), GameSession.status == SessionStatus.ACTIVE
    )
    return {row.station_id: (row.id, row.created_at) for row in await db.execute(query)}


async def ended_at(
    db: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, datetime | None]:
    """When each of ``session_ids`` ended (None: it has not, or did without an end time)."""
    query = select(GameSession.id, GameSession.actual_end_at).where(GameSession.id.in_(session_ids))
    return {row.id: row.actual_end_at for row in await db.execute(query)}


async def clock_waiting_on(db: AsyncSession, station_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``station_ids`` whose active session waits for its PC to take it."""
    query = select(GameSession.station_id).where(
        GameSession.station_id.in_(station_ids),
        GameSession.status == SessionStatus.ACTIVE,
        GameSession.waiting_since.is_not(None),
    )
    return set((await db.scalars(query)).all())


async def pending_on_station(db: AsyncSession, station_id: uuid.UUID) -> GameSession | None:
    query = select(GameSession).where(
        GameSession.station_id == station_id,
        GameSession.status == SessionStatus.PENDING_PAYMENT,
    )
    session: GameSession | None = await db.scalar(query.limit(1))
    return session


async def all_active(db: AsyncSession) -> Sequence[tuple[uuid.UUID, datetime]]:
    """The running sessions and their ends (not those waiting for their PC)."""
    query = select(GameSession.id, GameSession.scheduled_end_at).where(
        GameSession.status == SessionStatus.ACTIVE, GameSession.waiting_since.is_(None)
    )
    return [(row.id, row.scheduled_end_at) for row in await db.execute(query)]


async def count_active(db: AsyncSession) -> int:
    query = select(func.count()).select_from(GameSession)
    return int(await db.scalar(query.where(GameSession.status == SessionStatus.ACTIVE)) or 0)


async def claim_overdue(
    db: AsyncSession, waiting_before: datetime, now: datetime
) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
    """Flag the sessions their PC has not taken since before ``waiting_before`` and return
    them (id, station, waiting since). One conditional UPDATE: of several replicas looking
    at once, exactly one flags each session, so staff are told once."""
    result = await db.execute(
        update(GameSession)
        .where(
            GameSession.status == SessionStatus.ACTIVE,
            GameSession.waiting_since < waiting_before,
            GameSession.start_overdue_at.is_(None),
        )
        .values(start_overdue_at=now)
        .returning(GameSession.id, GameSession.station_id, GameSession.waiting_since)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.station_id, row.waiting_since) for row in result]


async def active_ends(
    db: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """The scheduled end of each of ``session_ids`` that is still ACTIVE."""
    if not session_ids:  # a tick's batch all expired: no query
        return {}
    query = select(GameSession.id, GameSession.scheduled_end_at).where(
        GameSession.id.in_(session_ids),
        GameSession.status == SessionStatus.ACTIVE,
        GameSession.waiting_since.is_(None),  # waiting for its PC: the clock's start arms it
    )
    return {row.id: row.scheduled_end_at for row in await db.execute(query)}


async def claim_expiries(
    db: AsyncSession, session_ids: Collection[uuid.UUID], now: datetime
) -> list[GameSession]:
    """Mark EXPIRED those of ``session_ids`` that are still ACTIVE and due, in one statement,
    and return them. The condition makes the claim atomic: of two workers or replicas,
    exactly one gets a row back."""
    result = await db.execute(
        update(GameSession)
        .where(
            GameSession.id.in_(sorted(session_ids)),
            GameSession.status == SessionStatus.ACTIVE,
            GameSession.scheduled_end_at <= now,
            GameSession.waiting_since.is_(None),  # a PC's clock runs once its agent has it
        )
        .values(status=SessionStatus.EXPIRED, actual_end_at=now, end_reason=EndReason.EXPIRED.value)
        .returning(GameSession)  # the claimed rows as they are now: no second query
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(result.scalars(), key=attrgetter("id"))


async def list_sessions(
    db: AsyncSession,
    offset: int,
    limit: int,
    status: SessionStatus | None,
    station_id: uuid.UUID | None,
) -> tuple[Sequence[GameSession], int]:
    query = select(GameSession).options(selectinload(GameSession.user))
    if status is not None:
        query = query.where(GameSession.status == status)
    if station_id is not None:
        query = query.where(GameSession.station_id == station_id)
    order = (GameSession.started_at.desc(), GameSession.id)
    return await fetch_page(db, query, order, offset, limit)


async def completed_payments(db: AsyncSession, session_id: uuid.UUID) -> Sequence[Payment]:
    """What was paid for the session (start and extensions), oldest first."""
    query = (
        select(Payment)
        .where(
            Payment.session_id == session_id,
            Payment.status == PaymentStatus.COMPLETED,
            Payment.purpose.in_([PaymentPurpose.SESSION_START, PaymentPurpose.SESSION_EXTENSION]),
        )
        .order_by(Payment.created_at, Payment.id)
    )
    return list(await db.scalars(query))


async def payment_methods(
    db: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PaymentMethod]]:
    """How each session was paid: the methods of its completed payments, first used first."""
    if not session_ids:
        return {}
    query = (
        select(Payment.session_id, Payment.method)
        .where(Payment.session_id.in_(session_ids), Payment.status == PaymentStatus.COMPLETED)
        .order_by(Payment.created_at, Payment.id)
    )
    methods: dict[uuid.UUID, list[PaymentMethod]] = {}
    for session_id, method in await db.execute(query):
        used = methods.setdefault(cast(uuid.UUID, session_id), [])  # never null: in_() above
        if method not in used:
            used.append(method)
    return methods
