"""The till's shifts, and corrections recorded after a shift was closed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.db.models.base import Base, enum_column
from gameops.server.db.types import BigIntPK, Money, UTCDateTime
from gameops.server.shifts.domain import ShiftStatus


class Shift(Base):
    """Opened with a counted float, closed with a count. Once closed its figures never
    change: a correction is a new ``ShiftCorrection`` row."""

    __tablename__ = "shifts"
    __table_args__ = (
        # One till: at most one shift is open at a time, and the database refuses a second.
        Index(
            "uq_shifts_one_open",
            "status",
            unique=True,
            sqlite_where=text("status = 'OPEN'"),
            postgresql_where=text("status = 'OPEN'"),
        ),
        CheckConstraint("opening_float >= 0", name="float_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[ShiftStatus] = mapped_column(enum_column(ShiftStatus))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    opening_float: Mapped[int] = mapped_column(Money)
    opening_count: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closing_count: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counted_cash: Mapped[int | None] = mapped_column(Money)
    expected_cash: Mapped[int | None] = mapped_column(Money)
    variance: Mapped[int | None] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(500), default="")


class ShiftCorrection(Base):
    """Money found or missing after a shift was closed (signed), with the reason."""

    __tablename__ = "shift_corrections"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shifts.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
