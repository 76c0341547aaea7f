"""Receipts, numbered from one counter row so numbers never repeat and leave no gaps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.db.models.base import Base, enum_column
from gameops.server.db.types import Money, UTCDateTime
from gameops.server.payments.domain import PaymentMethod
from gameops.server.receipts.domain import ReceiptKind


class ReceiptCounter(Base):
    """One row per series (the venue has one, ``id = 1``): the last number issued. It is
    raised in the receipt's own transaction, so a sale that rolls back takes its number
    back with it (no gap), and its row lock makes concurrent sales wait their turn (no
    repeat)."""

    __tablename__ = "receipt_counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Receipt(Base):
    """What the customer was given: a copy of every line as printed, never changed."""

    __tablename__ = "receipts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[ReceiptKind] = mapped_column(enum_column(ReceiptKind))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), unique=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    # Signed: a refund's total is negative.
    total: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    taxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    customer: Mapped[str | None] = mapped_column(String(255))
    operator: Mapped[str | None] = mapped_column(String(255))
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
