"""The prepaid balance ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid, event
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.accounts.domain import LedgerKind
from gameops.server.db.models.base import Base, enum_column
from gameops.server.db.types import BigIntPK, Money, UTCDateTime


class LedgerEntry(Base):
    """One change of a customer's balance. Rows are only ever inserted: a correction is a
    new ADJUSTMENT row, so the history always adds up to the cached balance."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_user_id_id", "user_id", "id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[LedgerKind] = mapped_column(enum_column(LedgerKind))
    # Signed: credits are positive, debits negative.
    amount: Mapped[int] = mapped_column(Money)
    balance_after: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(255), default="")
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(*_: Any) -> None:
    raise RuntimeError("ledger entries are immutable; record an adjustment instead")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(*_: Any) -> None:
    raise RuntimeError("ledger entries are immutable; record an adjustment instead")
