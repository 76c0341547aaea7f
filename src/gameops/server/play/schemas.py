from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from gameops.server.schemas import Schema


class TicketCreate(BaseModel):
    minutes: StrictInt = Field(gt=0, le=24 * 60, description="play time on the ticket")
    price: StrictInt = Field(ge=0, le=10_000_000, description="minor units paid at the desk")
    method: Literal["CASH"] = "CASH"


class TicketPublic(Schema):
    id: uuid.UUID
    hint: str
    seconds_total: int
    seconds_left: int
    price: int
    currency: str
    expires_at: datetime
    voided_at: datetime | None
    created_at: datetime


class TicketSale(TicketPublic):
    """The answer to a sale: the only time the code is ever shown."""

    code: str


class PinChange(BaseModel):
    current: str = Field(min_length=1, max_length=128)
    new_pin: str = Field(pattern=r"^[0-9]{4,12}$", description="4 to 12 digits")


class MySession(BaseModel):
    id: uuid.UUID
    station: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    amount_total: int
