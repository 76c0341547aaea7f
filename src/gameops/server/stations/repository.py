from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import AgentToken, Station
from gameops.server.db.pages import fetch_page
from gameops.server.events.dispatch import hold_locked
from gameops.server.stations.domain import StationStatus, StationType

_id_order = attrgetter("int")  # how the database orders uuids


async def get_live(
    db: AsyncSession, station_id: uuid.UUID, *, lock: bool = False
) -> Station | None:
    query = select(Station).where(Station.id == station_id, Station.archived_at.is_(None))
    if lock:
        query = query.with_for_update()
    station: Station | None = await db.scalar(query)
    if lock and station is not None:
        hold_locked(db, [station])
    return station


async def lock_many(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Station]:
    """``station_ids`` locked for update, in id order (so two workers cannot deadlock)."""
    query = (
        select(Station)
        .where(Station.id.in_(sorted(station_ids)))
        .order_by(Station.id)
        .with_for_update()
    )
    stations = {station.id: station for station in await db.scalars(query)}
    hold_locked(db, stations.values())
    return stations


async def live_many(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Station]:
    """The live stations of ``station_ids``, not locked."""
    query = select(Station).where(Station.id.in_(station_ids), Station.archived_at.is_(None))
    return {station.id: station for station in await db.scalars(query)}


async def list_live(
    db: AsyncSession,
    offset: int,
    limit: int,
    station_type: StationType | None = None,
    status: StationStatus | None = None,
) -> tuple[Sequence[Station], int]:
    query = select(Station).where(Station.archived_at.is_(None))
    if station_type is not None:
        query = query.where(Station.type == station_type)
    if status is not None:
        query = query.where(Station.status == status)
    return await fetch_page(db, query, (Station.zone, Station.name), offset, limit)


async def live_names(db: AsyncSession, names: Collection[str]) -> set[str]:
    """Which of ``names`` stations in use already have."""
    query = select(Station.name).where(Station.name.in_(names), Station.archived_at.is_(None))
    return set(await db.scalars(query))


async def live_token_hashes(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """For each live station of ``station_ids``, its agent token's hash (None: it has none)."""
    token = and_(AgentToken.station_id == Station.id, AgentToken.revoked_at.is_(None))
    query = (
        select(Station.id, AgentToken.token_hash)
        .outerjoin(AgentToken, token)
        .where(Station.id.in_(station_ids), Station.archived_at.is_(None))
    )
    return {station_id: token_hash for station_id, token_hash in (await db.execute(query)).all()}


async def revoke_tokens(db: AsyncSession, station_id: uuid.UUID) -> int:
    result = await db.execute(
        update(AgentToken)
        .where(AgentToken.station_id == station_id, AgentToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def stopped_clients(db: AsyncSession) -> list[tuple[uuid.UUID, list[str]]]:
    """Stations whose agent said goodbye and is not back, with the MACs it reported."""
    query = select(Station).where(
        Station.archived_at.is_(None),
        Station.agent_stopped_at.is_not(None),
        Station.agent_connected.is_(False),
    )
    stations = (await db.scalars(query)).all()
    return [(s.id, [str(mac) for mac in (s.specs or {}).get("macs") or []]) for s in stations]


async def record_heartbeats(
    db: AsyncSession, seen: Mapping[uuid.UUID, tuple[datetime, dict[str, Any]]]
) -> None:
    """Last seen and metrics of many stations in one statement (executed for each), in id
    order so that two replicas flushing at once cannot deadlock. A row already seen later
    (its agent reconnected since: ``mark_connected`` wrote a newer time) is left alone."""
    table = cast(Table, Station.__table__)
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("station_id"),
            or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < bindparam("seen_at")),
        )
        .values(last_seen_at=bindparam("seen_at"), metrics=bindparam("beat_metrics"))
    )
    # Sorted by the ids' integers (the order of the stored ids): comparing UUIDs or tuples
    # calls Python code per comparison, a third of a 10,000-agent flush's time.
    rows = [
        {
            "station_id": station_id,
            "seen_at": seen[station_id][0],
            "beat_metrics": seen[station_id][1],
        }
        for station_id in sorted(seen, key=_id_order)
    ]
    await db.execute(statement, rows)


async def tamper_locked(
    db: AsyncSession, station_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, bool]:
    """Whether each live station of ``station_ids`` holds a tamper lock."""
    query = select(Station.id, Station.tamper_locked_at.is_not(None)).where(
        Station.id.in_(station_ids), Station.archived_at.is_(None)
    )
    return {station_id: bool(locked) for station_id, locked in (await db.execute(query)).all()}
