"""Staff commands to stations: who asked what, when, and what came of it (the audit trail
and the queue for offline agents)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.commands.domain import CommandKind, CommandStatus, SessionEffect
from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.db.types import UTCDateTime


class StationCommandRecord(Timestamped, Base):
    __tablename__ = "station_commands"
    __table_args__ = (Index("ix_station_commands_station_created", "station_id", "created_at"),)

    # Also the command's id on the wire: the agent's command_result names it.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[CommandKind] = mapped_column(enum_column(CommandKind))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CommandStatus] = mapped_column(enum_column(CommandStatus), index=True)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # A wake relayed by another station's agent: that station.
    via_station_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stations.id"))
    # A restart or shutdown in paid time: the session, and what happened to it.
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"))
    session_effect: Mapped[SessionEffect | None] = mapped_column(enum_column(SessionEffect))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    detail: Mapped[str | None] = mapped_column(String(500))
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a message's "Got it"
