from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from gameops.server.schemas import PartialUpdate, Schema
from gameops.server.stations.domain import StationStatus, StationType

StationName = Annotated[str, Field(min_length=1, max_length=64)]
HourlyRate = Annotated[
    int, Field(ge=0, le=100_000_000, description="price per hour in minor units (cents)")
]
Zone = Annotated[str, Field(max_length=64)]


class StationCreate(BaseModel):
    name: StationName
    type: StationType
    hourly_rate: HourlyRate
    zone: Zone | None = None
    specs: dict[str, Any] = Field(default_factory=dict)


class StationUpdate(PartialUpdate):
    NOT_NULL = ("name", "hourly_rate", "specs", "status")

    name: StationName | None = None
    hourly_rate: HourlyRate | None = None
    zone: Zone | None = None
    specs: dict[str, Any] | None = None
    status: StationStatus | None = Field(
        default=None, description="only MAINTENANCE or ONLINE (back in service)"
    )


class StationPublic(Schema):
    id: uuid.UUID
    name: str
    type: StationType
    zone: str | None
    hourly_rate: int
    status: StationStatus
    agent_connected: bool
    agent_version: str | None
    specs: dict[str, Any]
    metrics: dict[str, Any]
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AgentTokenIssued(BaseModel):
    station_id: uuid.UUID
    token: str = Field(description="shown once; only its hash is stored")
    created_at: datetime
