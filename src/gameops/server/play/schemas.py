from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt, model_validator

from gameops.server.schemas import Schema


class TicketCreate(BaseModel):
    """N minutes, or an amount spent at the station's guest rate: one of the two."""

    minutes: StrictInt | None = Field(
        default=None, gt=0, le=24 * 60, description="play time on the ticket"
    )
    amount: StrictInt | None = Field(
        default=None, gt=0, le=10_000_000, description="minor units of play on the ticket"
    )
    price: StrictInt = Field(ge=0, le=10_000_000, description="minor units paid at the desk")
    method: Literal["CASH"] = "CASH"

    @model_validator(mode="after")
    def _minutes_or_amount(self) -> TicketCreate:
        if (self.minutes is None) == (self.amount is None):
            raise ValueError("a ticket is for minutes or for an amount: give one of the two")
        return self


class TicketPublic(Schema):
    id: uuid.UUID
    hint: str
    seconds_total: int
    seconds_left: int
    amount_total: int | None = Field(description="an amount ticket's value; null: minutes")
    amount_left: int | None
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
