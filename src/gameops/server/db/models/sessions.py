"""Timed sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.db.models.stations import Station
from gameops.server.db.models.users import User
from gameops.server.db.types import Money, UTCDateTime
from gameops.server.sessions.domain import SessionStatus


class GameSession(Timestamped, Base):
    """Paid time on one station. (Named so, not ``Session``, to stay clear of SQLAlchemy's.)"""

    __tablename__ = "sessions"
    __table_args__ = (
        # The database itself refuses a second ACTIVE session on a station: no race can win.
        Index(
            "uq_sessions_one_active_per_station",
            "station_id",
            unique=True,
            sqlite_where=text("status = 'ACTIVE'"),
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        Index("ix_sessions_status_end", "status", "scheduled_end_at"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("extended_minutes >= 0", name="extension_not_negative"),
        CheckConstraint("amount_total >= 0", name="amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actual_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    extended_minutes: Mapped[int] = mapped_column(Integer, default=0)
    amount_total: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # A PC's paid time starts when its agent takes the session: until then this is when
    # the sale (or move) was made, and the clock does not run. None: running (or console).
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When staff were told the PC has not taken it within the venue's wait.
    start_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Station] = relationship(lazy="raise")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="raise")

    @property
    def booked_minutes(self) -> int:
        return self.duration_minutes + self.extended_minutes
