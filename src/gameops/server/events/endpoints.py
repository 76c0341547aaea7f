from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from gameops.server.deps import MAX_ID, DbDep, PageDep, StaffUser
from gameops.server.errors import Unprocessable
from gameops.server.events import repository
from gameops.server.events.domain import EventType
from gameops.server.events.schemas import EventPublic
from gameops.server.schemas import Paginated

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", response_model=Paginated[EventPublic])
async def list_events(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    type: EventType | None = None,
    station_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="only events after this id")
    ] = None,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> Paginated[EventPublic]:
    if since is not None and since.tzinfo is None:
        raise Unprocessable("since: give a time zone, e.g. 2026-01-01T10:00:00Z")
    where = repository.EventFilter(type, station_id, session_id, since, after_id)
    rows, total = await repository.list_events(
        db, where, page.offset, page.per_page, newest_first=order == "desc"
    )
    return page.of(EventPublic, rows, total)
