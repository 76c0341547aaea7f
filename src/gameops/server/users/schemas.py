from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from gameops.i18n import LANGUAGES
from gameops.server.schemas import PartialUpdate, Schema
from gameops.server.users.domain import Role

Username = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
Password = Field(min_length=8, max_length=128)


class UserCreate(BaseModel):
    username: str = Username
    password: str = Password
    full_name: str = Field(default="", max_length=128)
    role: Role = Role.OPERATOR


class UserUpdate(PartialUpdate):
    NOT_NULL = ("full_name", "password", "role", "is_active")

    full_name: str | None = Field(default=None, max_length=128)
    password: str | None = Field(default=None, min_length=8, max_length=128)
    role: Role | None = None
    is_active: bool | None = None


class UserPublic(Schema):
    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    is_active: bool
    language: str | None = Field(description="the dashboard's language; null: the venue's")
    created_at: datetime


class MyUpdate(PartialUpdate):
    """What every user may change about themselves."""

    NOT_NULL = ("full_name",)

    full_name: str | None = Field(default=None, max_length=128)
    language: str | None = Field(default=None, description="null: the venue's language")

    @field_validator("language")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=128)
    new_password: str = Password
