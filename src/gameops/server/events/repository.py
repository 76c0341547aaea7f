from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Event
from gameops.server.db.pages import fetch_page
from gameops.server.events.domain import EventType


@dataclass(frozen=True)
class EventFilter:
    type: EventType | None = None
    station_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    since: datetime | None = None
    after_id: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.type is not None:
            query = query.where(Event.type == self.type)
        if self.station_id is not None:
            query = query.where(Event.station_id == self.station_id)
        if self.session_id is not None:
            query = query.where(Event.session_id == self.session_id)
        if self.since is not None:
            query = query.where(Event.created_at >= self.since)
        if self.after_id is not None:
            query = query.where(Event.id > self.after_id)
        return query


async def list_events(
    db: AsyncSession, where: EventFilter, offset: int, limit: int, newest_first: bool
) -> tuple[Sequence[Event], int]:
    query = where.apply(select(Event))
    order = Event.id.desc() if newest_first else Event.id.asc()
    return await fetch_page(db, query, (order,), offset, limit)
