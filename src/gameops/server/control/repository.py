"""Queries of console control: which stations have devices, their sessions, power samples."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import GameSession, PowerSample, Station
from gameops.server.sessions.domain import SessionStatus
from gameops.server.stations.domain import StationType


async def controlled_consoles(db: AsyncSession) -> Sequence[Station]:
    query = select(Station).where(
        Station.type == StationType.CONSOLE, Station.archived_at.is_(None)
    )
    # JSON null and SQL NULL differ by backend: filter on the loaded value instead.
    return [s for s in (await db.scalars(query)).all() if s.controller]


async def active_sessions(
    db: AsyncSession, station_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, GameSession]:
    if not station_ids:
        return {}
    query = select(GameSession).where(
        GameSession.station_id.in_(station_ids), GameSession.status == SessionStatus.ACTIVE
    )
    return {s.station_id: s for s in (await db.scalars(query)).all()}


async def has_active_session(db: AsyncSession, station_id: uuid.UUID) -> bool:
    return bool(await active_sessions(db, [station_id]))


async def drop_samples_before(db: AsyncSession, cutoff: datetime) -> None:
    await db.execute(delete(PowerSample).where(PowerSample.sampled_at < cutoff))


async def samples(
    db: AsyncSession, station_id: uuid.UUID, since: datetime, limit: int = 2000
) -> Sequence[PowerSample]:
    query = (
        select(PowerSample)
        .where(PowerSample.station_id == station_id, PowerSample.sampled_at >= since)
        .order_by(PowerSample.sampled_at)
        .limit(limit)
    )
    return (await db.scalars(query)).all()
