"""Rate plans per station zone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.db.models.base import Base, Timestamped
from gameops.server.db.types import Money, UTCDateTime


class RatePlan(Timestamped, Base):
    """The hourly rates of one zone. Its time rules and packages are value objects of the
    plan (always read, validated and replaced with it), so they are JSON, not tables."""

    __tablename__ = "rate_plans"
    __table_args__ = (
        CheckConstraint("member_hourly_rate >= 0", name="member_rate_not_negative"),
        CheckConstraint("guest_hourly_rate >= 0", name="guest_rate_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    zone: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    member_hourly_rate: Mapped[int] = mapped_column(Money)
    guest_hourly_rate: Mapped[int] = mapped_column(Money)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    packages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
