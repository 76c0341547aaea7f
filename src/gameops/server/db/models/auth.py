"""Refresh tokens: one row per issued token, so each can be used once (rotation) and a
stolen one that is used again revokes its whole family (every token since the login)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base
from gameops.server.db.types import UTCDateTime


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the token's jti
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # one per login
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # rotated: never again
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # logout, reuse
