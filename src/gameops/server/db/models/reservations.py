"""Reservations: a member's booking of a PC for a time slot, and its deposit.

Two active bookings (BOOKED or CHECKED_IN) of one station never overlap. The database
enforces it, whatever races: on PostgreSQL an exclusion constraint
``EXCLUDE USING gist (station_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
WHERE (status IN ('BOOKED', 'CHECKED_IN'))`` (btree_gist), on SQLite a trigger before each
insert and update that aborts on an overlap (SQLite runs one writer at a time, so the check
and the write cannot interleave). Both are created by the 0100 migration; alembic compares
neither, so ``tests/server/reservations`` checks that each refuses an overlap.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.db.types import Money, UTCDateTime
from gameops.server.reservations.domain import DepositOutcome, ReservationStatus


class Reservation(Timestamped, Base):
    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_station_starts", "station_id", "starts_at"),
        Index("ix_reservations_status_starts", "status", "starts_at"),
        Index("ix_reservations_user_starts", "user_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("deposit >= 0", name="deposit_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    zone: Mapped[str | None] = mapped_column(String(64))  # asked for "any PC in" this zone
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ReservationStatus] = mapped_column(enum_column(ReservationStatus))
    deposit: Mapped[int] = mapped_column(Money)
    deposit_outcome: Mapped[DepositOutcome] = mapped_column(enum_column(DepositOutcome))
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # told to the PC
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled or released
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
