"""Readings from console devices."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base
from gameops.server.db.types import BigIntPK, UTCDateTime


class PowerSample(Base):
    """One reading of a station's smart plug (every 60 s by default, kept 30 days)."""

    __tablename__ = "power_samples"
    __table_args__ = (Index("ix_power_samples_station_time", "station_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    watts: Mapped[float | None] = mapped_column(Float)
    relay_on: Mapped[bool] = mapped_column(Boolean)
