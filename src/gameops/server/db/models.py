"""ORM models, all in one place. Relationships are ``lazy="raise"``: in async code a hidden
lazy load must fail loudly, not block."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gameops.protocol import utc_now
from gameops.server.db.types import BigIntPK, UTCDateTime
from gameops.server.events.domain import EventType
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus
from gameops.server.sessions.domain import SessionStatus
from gameops.server.stations.domain import StationStatus, StationType
from gameops.server.users.domain import Role

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_column(enum: type[StrEnum]) -> Enum:
    # Stored as VARCHAR on both backends: adding a value later needs no ALTER TYPE.
    return Enum(enum, native_enum=False, length=32, validate_strings=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Station(Timestamped, Base):
    __tablename__ = "stations"
    __table_args__ = (
        # Names are unique among stations in use; an archived station frees its name.
        Index(
            "uq_stations_name_live",
            "name",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        CheckConstraint("hourly_rate >= 0", name="hourly_rate_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[StationType] = mapped_column(enum_column(StationType))
    zone: Mapped[str | None] = mapped_column(String(64))
    hourly_rate: Mapped[int] = mapped_column(Integer)
    status: Mapped[StationStatus] = mapped_column(enum_column(StationStatus))
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent_version: Mapped[str | None] = mapped_column(String(64))
    agent_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which connection owns the station now; a replaced connection must not mark it offline.
    agent_connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentToken(Timestamped, Base):
    __tablename__ = "agent_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    amount_total: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    station: Mapped[Station] = relationship(lazy="raise")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="raise")

    @property
    def booked_minutes(self) -> int:
        return self.duration_minutes + self.extended_minutes


class Payment(Timestamped, Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus))
    purpose: Mapped[PaymentPurpose] = mapped_column(enum_column(PaymentPurpose))
    minutes: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Event(Base):
    """The audit log: one immutable row per thing that happened."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_type_id", "type", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    type: Mapped[EventType] = mapped_column(enum_column(EventType))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    station_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentCommand(Timestamped, Base):
    """A command sent to an agent, by its envelope id; ``acked_at`` is set when it acks."""

    __tablename__ = "agent_commands"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
