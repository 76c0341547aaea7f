from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt, model_validator

from gameops.server.schemas import Schema


class ReservationCreate(BaseModel):
    """Book ``station_id``, or "any PC in" ``zone`` (the server picks a free one)."""

    station_id: uuid.UUID | None = None
    zone: str | None = Field(default=None, min_length=1, max_length=64)
    starts_at: AwareDatetime
    minutes: StrictInt = Field(ge=1, le=7 * 24 * 60)
    user_id: uuid.UUID | None = Field(
        default=None, description="staff: the customer booked for (a member books for self)"
    )

    @model_validator(mode="after")
    def _one_place(self) -> ReservationCreate:
        if (self.station_id is None) == (self.zone is None):
            raise ValueError("give either station_id or zone")
        return self


class ReservationMove(BaseModel):
    """Move a booking: a new start and/or length and/or station (at least one). Unset fields
    keep their value; a zone booking moved in time may change to another free PC of its
    zone when its own is taken then."""

    starts_at: AwareDatetime | None = None
    minutes: StrictInt | None = Field(default=None, ge=1, le=7 * 24 * 60)
    station_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _something(self) -> ReservationMove:
        if self.starts_at is None and self.minutes is None and self.station_id is None:
            raise ValueError("give starts_at, minutes or station_id")
        return self


class ReservationCancel(BaseModel):
    keep_deposit: StrictBool = Field(
        default=False, description="staff only: the venue keeps the deposit"
    )


class ReservationPublic(Schema):
    id: uuid.UUID
    station_id: uuid.UUID
    station_name: str
    user_id: uuid.UUID
    customer_name: str
    zone: str | None
    starts_at: datetime
    ends_at: datetime
    status: str
    deposit: int
    deposit_outcome: str
    checked_in_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class Booked(ReservationPublic):
    message: str  # "PC-03 is booked for you..." (says which PC the server picked)


class BookablePc(Schema):
    id: uuid.UUID
    name: str
    zone: str | None
    type: str  # PC or CONSOLE


class BookingOptions(BaseModel):
    stations: list[BookablePc]
    zones: list[str]
    deposit: int
    currency: str
    no_show_minutes: float
    no_show_keeps_deposit: bool
    notice_minutes: float
