"""Staff and customer accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Boolean,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.users.domain import Role


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
