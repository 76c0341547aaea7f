"""Every query of staff commands."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.commands.domain import QUEUES_OFFLINE, CommandStatus
from gameops.server.db.models import Station, StationCommandRecord, User
from gameops.server.db.pages import fetch_page
from gameops.server.stations.domain import StationType

Record = StationCommandRecord


async def get(db: AsyncSession, command_id: uuid.UUID) -> Record | None:
    record: Record | None = await db.get(Record, command_id)
    return record


async def for_result(
    db: AsyncSession, command_id: uuid.UUID, from_station: uuid.UUID
) -> Record | None:
    """The command ``from_station`` may report on: its own, or a wake it relayed."""
    query = (
        select(Record)
        .where(
            Record.id == command_id,
            or_(Record.station_id == from_station, Record.via_station_id == from_station),
        )
        .with_for_update()
    )
    record: Record | None = await db.scalar(query)
    return record


# Queued, or sent earlier (a message, a lock) and never answered: the agent may have missed it.
_due_on_sync = or_(
    Record.status == CommandStatus.QUEUED,
    and_(Record.status == CommandStatus.SENT, Record.kind.in_(list(QUEUES_OFFLINE))),
)


async def due_on_sync(db: AsyncSession, station_id: uuid.UUID) -> list[tuple[Record, str]]:
    """Commands to (re)send to an agent that syncs, with who sent them: queued ones, and
    messages or locks sent earlier that never got a result (the agent may have missed
    them), oldest first."""
    query = (
        select(Record, User.username)
        .join(User, User.id == Record.requested_by)
        .where(Record.station_id == station_id, _due_on_sync)
        .order_by(Record.created_at)
        .with_for_update(of=Record)
    )
    return [(row[0], row[1]) for row in (await db.execute(query)).all()]


async def due_on_sync_many(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[Record, str]]]:
    """``due_on_sync`` of many stations in one query (those with any), each oldest first."""
    if not station_ids:
        return {}
    query = (
        select(Record, User.username)
        .join(User, User.id == Record.requested_by)
        .where(Record.station_id.in_(station_ids), _due_on_sync)
        .order_by(Record.station_id, Record.created_at)
        .with_for_update(of=Record)
    )
    due: dict[uuid.UUID, list[tuple[Record, str]]] = {}
    for command, by in (await db.execute(query)).all():
        due.setdefault(command.station_id, []).append((command, by))
    return due


async def unanswered(db: AsyncSession, sent_before: datetime) -> Sequence[Record]:
    """Commands sent before ``sent_before`` still without an answer; rows another replica's
    sweep holds are skipped (it is deciding them)."""
    query = (
        select(Record)
        .where(Record.status == CommandStatus.SENT, Record.sent_at < sent_before)
        .order_by(Record.sent_at)
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    return (await db.scalars(query)).all()


async def online_pcs(db: AsyncSession, except_station: uuid.UUID) -> list[tuple[uuid.UUID, Any]]:
    """(id, specs) of the PCs whose agent is connected now: the candidates to relay a wake."""
    query = select(Station.id, Station.specs).where(
        Station.archived_at.is_(None),
        Station.type == StationType.PC,
        Station.agent_connected.is_(True),
        Station.id != except_station,
    )
    return [(row.id, row.specs) for row in (await db.execute(query)).all()]


async def page(
    db: AsyncSession, offset: int, limit: int, station_id: uuid.UUID | None = None
) -> tuple[Sequence[Record], int]:
    query = select(Record)
    if station_id is not None:
        query = query.where(Record.station_id == station_id)
    return await fetch_page(db, query, (Record.created_at.desc(), Record.id), offset, limit)
