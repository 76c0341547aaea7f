from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, model_validator

from gameops.server.schemas import Schema

HourlyRate = Annotated[StrictInt, Field(ge=0, le=10_000_000, description="minor units per hour")]


class TimeRuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    start: time = Field(description="local venue time, e.g. 18:00")
    end: time = Field(description="at or before start: the window runs past midnight")
    days: list[Annotated[StrictInt, Field(ge=0, le=6)]] = Field(
        default_factory=list, description="weekdays the window starts on, 0 = Monday; [] = all"
    )
    member_hourly_rate: HourlyRate
    guest_hourly_rate: HourlyRate

    @model_validator(mode="after")
    def _a_real_window(self) -> TimeRuleIn:
        if self.start == self.end:
            raise ValueError("a rule's start and end must differ")
        if self.start.tzinfo or self.end.tzinfo:
            raise ValueError("rule times are local venue times: give them without a zone")
        return self


class PackageIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    minutes: StrictInt = Field(gt=0, le=24 * 60)
    price: StrictInt = Field(ge=0, le=100_000_000)
    members_only: bool = False


class RatePlanIn(BaseModel):
    zone: str = Field(min_length=1, max_length=64, description="the stations' zone it prices")
    name: str = Field(min_length=1, max_length=64)
    member_hourly_rate: HourlyRate
    guest_hourly_rate: HourlyRate
    rules: list[TimeRuleIn] = Field(default_factory=list, max_length=50)
    packages: list[PackageIn] = Field(default_factory=list, max_length=50)


class RatePlanPublic(RatePlanIn, Schema):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class SegmentPublic(BaseModel):
    starts_at: datetime
    ends_at: datetime
    minutes: float
    hourly_rate: int
    rule: str | None
    amount: int


class QuotePublic(BaseModel):
    amount: int
    currency: str
    minutes: int
    plan: str
    member: bool
    starts_at: datetime
    ends_at: datetime
    basis: str = Field(description="'time' (sum of segments) or 'package'")
    time_price: int
    package: PackageIn | None
    segments: list[SegmentPublic]
    notes: list[str]
    tax_added: int = Field(
        default=0, description="tax added on top of net prices (0 when prices include tax)"
    )
