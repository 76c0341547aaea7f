from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gameops.server.events.domain import EventType
from gameops.server.sessions.domain import SessionStatus
from gameops.server.stations.schemas import StationPublic


class FloorSession(BaseModel):
    id: uuid.UUID
    status: SessionStatus = Field(description="ACTIVE, or PENDING_PAYMENT: sold by card, unpaid")
    pending_payment_id: uuid.UUID | None = Field(
        description="a card payment (start or extension) waiting to be confirmed"
    )
    started_at: datetime
    scheduled_end_at: datetime
    remaining_seconds: int
    booked_minutes: int
    amount_total: int
    currency: str
    customer_id: uuid.UUID | None
    customer_name: str | None
    waiting_since: datetime | None = Field(
        default=None, description="a PC that has not taken the session yet: its time waits"
    )
    start_overdue: bool = Field(
        default=False, description="waiting longer than the venue allows: move or refund"
    )


class FloorAlert(BaseModel):
    """The station's latest agent error or tamper report, while it is recent."""

    event_id: int
    type: EventType
    created_at: datetime
    data: dict[str, Any]


class FloorStation(StationPublic):
    session: FloorSession | None
    alert: FloorAlert | None


class Floor(BaseModel):
    server_time: datetime
    stations: list[FloorStation]
