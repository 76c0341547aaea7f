"""Self-service play: who is logged in where and how their current block was paid, and the
guest tickets sold at the desk."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base, Timestamped
from gameops.server.db.types import Money, UTCDateTime

_OPEN = text("ended_at IS NULL")


class GuestTicket(Timestamped, Base):
    """Play sold at the desk and used at any PC with a code: N minutes (``seconds_*``), or
    an amount (``amount_*``, spent block by block at the station's guest rate; its seconds
    are 0). Only the code's HMAC is stored (``code_hash``); what is left stays on the
    ticket between PCs."""

    __tablename__ = "guest_tickets"
    __table_args__ = (
        CheckConstraint("seconds_left >= 0", name="seconds_left_not_negative"),
        CheckConstraint("seconds_left <= seconds_total", name="seconds_left_within_total"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint(
            "(amount_total IS NULL AND amount_left IS NULL) OR "
            "(amount_left >= 0 AND amount_left <= amount_total)",
            name="amount_left_within_total",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the code's last characters, for staff
    seconds_total: Mapped[int] = mapped_column(Integer)
    seconds_left: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(Money)
    amount_total: Mapped[int | None] = mapped_column(Money)  # an amount ticket's value
    amount_left: Mapped[int | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))


class PlaySession(Timestamped, Base):
    """A session someone logged in to at the PC, billed block by block. Open while
    ``ended_at`` is null; the partial unique indexes allow one open login per member and
    per ticket, whatever races."""

    __tablename__ = "play_sessions"
    __table_args__ = (
        Index(
            "uq_play_sessions_one_login_per_member",
            "user_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "uq_play_sessions_one_login_per_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_play_sessions_open_block_end", "ended_at", "block_ends_at"),
        CheckConstraint("block_charge >= 0", name="block_charge_not_negative"),
        CheckConstraint("(user_id IS NULL) <> (ticket_id IS NULL)", name="member_or_ticket"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("guest_tickets.id"))
    hourly_rate: Mapped[int] = mapped_column(Money)  # the current block's
    block_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_charge: Mapped[int] = mapped_column(Money)
    blocks: Mapped[int] = mapped_column(Integer, default=1)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
