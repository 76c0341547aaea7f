from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gameops.server.events.domain import EventType
from gameops.server.schemas import Schema


class EventPublic(Schema):
    id: int
    type: EventType
    created_at: datetime
    station_id: uuid.UUID | None
    session_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    data: dict[str, Any]
