"""The transactional outbox: messages for the bus, written in the transaction of the change
they announce, published by the relay (``outbox/relay.py``) once committed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gameops.protocol import utc_now
from gameops.server.db.models.base import Base
from gameops.server.db.types import BigIntPK, UTCDateTime

UNSENT = text("sent_at IS NULL")


class OutboxMessage(Base):
    """One bus message. Its id is the message id consumers deduplicate by; ids grow in
    commit order for changes that lock the same row, so the relay's id order is their order."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay reads only the unsent rows: a small index however long the history is.
        Index("ix_outbox_unsent", "id", sqlite_where=UNSENT, postgresql_where=UNSENT),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    channel: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
