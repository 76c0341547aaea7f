"""Writing the audit log. A domain with typed events records them (``events.base.record``);
a change with no typed event of its own (users, pricing, device health) notes its audit
line here. Either way the row is written in the change's transaction, so it exists exactly
when the change does, and it is streamed on the dashboards' feed after the commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.events.base import Noted, record
from gameops.server.events.domain import EventType


def record_event(
    db: AsyncSession,
    event_type: EventType,
    *,
    station_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    record(
        db,
        Noted(
            audit_type=event_type,
            station_id=station_id,
            session_id=session_id,
            actor_id=actor_id,
            data=data or {},
        ),
    )
