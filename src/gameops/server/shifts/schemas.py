from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from gameops.server.schemas import Amount, Schema
from gameops.server.shifts.domain import ShiftStatus

# {denomination in minor units: pieces}; the keys arrive as JSON strings, the pieces strict;
# bounded so that no total can overflow (issue 11 §3).
Count = Annotated[
    dict[
        Annotated[int, Field(gt=0, le=100_000_000)],
        Annotated[StrictInt, Field(ge=0, le=1_000_000)],
    ],
    Field(max_length=64),
]

_COUNT = 'pieces per note or coin, keyed by its value in minor units: {"2000": 3}'


class ShiftOpen(BaseModel):
    count: Count = Field(description=f"the float in the drawer: {_COUNT}")
    note: str = Field(default="", max_length=500)


class ShiftClose(BaseModel):
    count: Count = Field(description=f"the cash in the drawer at the close: {_COUNT}")
    note: str = Field(default="", max_length=500)


class CorrectionCreate(BaseModel):
    amount: Amount = Field(description="signed: money found (+) or missing (-) after the close")
    reason: str = Field(min_length=1, max_length=255)


class ShiftPublic(Schema):
    id: uuid.UUID
    status: ShiftStatus
    opened_at: datetime
    opened_by: uuid.UUID
    opening_float: int
    closed_at: datetime | None
    closed_by: uuid.UUID | None
    counted_cash: int | None
    expected_cash: int | None
    variance: int | None
    note: str


class CorrectionPublic(Schema):
    id: int
    amount: int
    reason: str
    created_by: uuid.UUID | None
    created_at: datetime


class HandoverReport(BaseModel):
    """A shift from open to close: what was sold and how it was paid, what went back, and
    the drawer: expected against counted."""

    currency: str
    shift: ShiftPublic
    opened_by: str | None
    closed_by: str | None
    operators: list[str]
    payments: int
    sales: dict[str, int]
    shop_sales: dict[str, int]
    topups: dict[str, int]
    refunds: dict[str, int]
    voids: int
    cash_in: int
    cash_out: int
    expected_cash: int
    counted_cash: int | None
    variance: int | None
    opening_count: dict[str, int] | None
    closing_count: dict[str, int] | None
    corrections: list[CorrectionPublic]
    corrected_variance: int | None = Field(description="the variance with later corrections")
    denominations: list[int]
