from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gameops.server.accounts.domain import LedgerKind
from gameops.server.schemas import Amount, PartialUpdate, Schema
from gameops.server.users.schemas import Username

Phone = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()-]{3,32}$")
CardNumber = Field(default=None, min_length=4, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
Pin = Field(default=None, pattern=r"^[0-9]{4,12}$", description="4 to 12 digits")
Email = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerCreate(BaseModel):
    username: str = Username
    full_name: str = Field(default="", max_length=128)
    phone: str | None = Phone
    email: str | None = Email
    is_member: bool = False
    # Optional: a customer who never logs in needs none; staff can set one later.
    password: str | None = Field(default=None, min_length=8, max_length=128)
    # Self-service at the PC: a member card's number logs in like the username, and a PIN
    # (digits) may stand in for the password there.
    card_number: str | None = CardNumber
    pin: str | None = Pin


class CustomerUpdate(PartialUpdate):
    NOT_NULL = ("full_name", "is_member", "is_active", "password")

    full_name: str | None = Field(default=None, max_length=128)
    phone: str | None = Phone
    email: str | None = Email
    is_member: bool | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=128)
    card_number: str | None = CardNumber
    pin: str | None = Pin


class CustomerPublic(Schema):
    id: uuid.UUID
    username: str
    full_name: str
    phone: str | None
    email: str | None
    is_member: bool
    is_active: bool
    balance: int
    card_number: str | None = None
    created_at: datetime


class LedgerEntryPublic(Schema):
    id: int
    kind: LedgerKind
    amount: int
    balance_after: int
    currency: str
    reason: str
    payment_id: uuid.UUID | None
    session_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime


class TopUpRequest(BaseModel):
    amount: Amount = Field(description="minor units, more than zero")
    method: Literal["CASH", "CARD"] = "CASH"
    currency: str | None = Field(default=None, description="defaults to the venue's currency")


class AdjustmentRequest(BaseModel):
    amount: Amount = Field(description="signed minor units: positive adds, negative takes")
    reason: str = Field(min_length=3, max_length=255)
    currency: str | None = None


class AdjustmentResult(BaseModel):
    customer: CustomerPublic
    entry: LedgerEntryPublic
