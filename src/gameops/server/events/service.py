"""Writing the audit log. Every lifecycle change calls :func:`record_event` inside its own
transaction, so the event exists exactly when the change does, and is streamed after commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.bus import EVENTS
from gameops.server.db.engine import after_commit
from gameops.server.db.models import Event
from gameops.server.events.domain import EventType
from gameops.server.events.schemas import EventPublic


def record_event(
    db: AsyncSession,
    event_type: EventType,
    *,
    station_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        type=event_type,
        station_id=station_id,
        session_id=session_id,
        actor_id=actor_id,
        data=data or {},
    )
    db.add(event)
    after_commit(db, EVENTS, lambda: EventPublic.model_validate(event).model_dump(mode="json"))
    return event
