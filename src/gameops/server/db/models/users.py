"""Staff and customer accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Integer,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gameops.server.db.models.base import Base, Timestamped, enum_column
from gameops.server.db.types import Money
from gameops.server.users.domain import Role


class User(Timestamped, Base):
    __tablename__ = "users"
    # The last line of defence for prepaid money: no code path can leave a balance below 0.
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # In every token issued to the user; bumped on a password or role change and on
    # disabling, which makes every token issued before useless.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The dashboard's language for this user (a gameops.i18n catalogue); null: the venue's.
    language: Mapped[str | None] = mapped_column(String(8))
    # Customers only (staff keep the defaults).
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    is_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Prepaid balance in minor units: a cache of the ledger's sum, written in the same
    # transaction as each ledger row (accounts.service is the only writer).
    balance: Mapped[int] = mapped_column(Money, default=0, server_default=text("0"))
    # A member card's number: logs in at a PC instead of the username (self-service).
    card_number: Mapped[str | None] = mapped_column(String(32), unique=True)
