"""Stations and their agents' credentials and commands."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.db.types import Money, UTCDateTime
from gameops.server.stations.domain import StationStatus, StationType


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
    hourly_rate: Mapped[int] = mapped_column(Money)
    status: Mapped[StationStatus] = mapped_column(enum_column(StationStatus))
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent_version: Mapped[str | None] = mapped_column(String(64))
    agent_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which connection owns the station now; a replaced connection must not mark it offline.
    agent_connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # When that connection's socket was accepted: one accepted earlier whose handshake
    # finishes later (slow under load) is stale and must not take the station back.
    agent_connected_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consoles: the plug and/or router that enforce sessions (no passwords in here) ...
    controller: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # ... and their passwords, encrypted with the device key (never returned by the API).
    controller_secret: Mapped[str | None] = mapped_column(Text)
    # The plug's last reading (power monitoring).
    power_watts: Mapped[float | None] = mapped_column(Float)
    relay_on: Mapped[bool | None] = mapped_column(Boolean)
    power_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fail-closed after tampering (overlay killed too often...): the agent keeps the station
    # locked and no time is sold on it until staff clear it. ``tamper_lock``: kind, detail.
    tamper_locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tamper_lock: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The agent said goodbye before stopping (its reason, who, evidence of use); cleared
    # when it connects again. Lets staff tell "client stopped" from "offline".
    agent_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_stop: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AgentToken(Timestamped, Base):
    __tablename__ = "agent_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentCommand(Timestamped, Base):
    """A command sent to an agent, by its envelope id; ``acked_at`` is set when it acks."""

    __tablename__ = "agent_commands"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
