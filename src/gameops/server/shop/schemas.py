from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from gameops.server.payments.schemas import PaymentPublic
from gameops.server.schemas import PartialUpdate, Schema

MAX_PRICE = 10_000_000


class ProductCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    category: str = Field(default="", max_length=64)
    price: StrictInt = Field(
        ge=0, le=MAX_PRICE, description="minor units, gross or net per the venue"
    )
    tax_rate_bp: StrictInt | None = Field(
        default=None, ge=0, le=10000, description="basis points; unset: the venue's rate"
    )
    stock: StrictInt = Field(default=0, ge=0, le=1_000_000)


class ProductUpdate(PartialUpdate):
    NOT_NULL = ("name", "price", "tax_rate_bp", "stock", "active", "category")
    name: str | None = Field(default=None, min_length=1, max_length=128)
    category: str | None = Field(default=None, max_length=64)
    price: StrictInt | None = Field(default=None, ge=0, le=MAX_PRICE)
    tax_rate_bp: StrictInt | None = Field(default=None, ge=0, le=10000)
    stock: StrictInt | None = Field(default=None, ge=0, le=1_000_000)
    active: bool | None = None


class ProductPublic(Schema):
    id: uuid.UUID
    name: str
    category: str
    price: int
    tax_rate_bp: int
    stock: int
    active: bool
    created_at: datetime


class SaleItem(BaseModel):
    product_id: uuid.UUID
    quantity: StrictInt = Field(ge=1, le=1000)


class ShopSaleCreate(BaseModel):
    items: list[SaleItem] = Field(min_length=1, max_length=100)
    payment_method: Literal["CASH", "BALANCE"] = Field(
        description="CASH: a walk-in pays at the desk; BALANCE: on the customer's balance"
    )
    user_id: uuid.UUID | None = None


class SaleLinePublic(BaseModel):
    product_id: uuid.UUID
    name: str
    quantity: int
    unit_price: int
    amount: int
    tax_rate_bp: int


class ShopSalePublic(BaseModel):
    payment: PaymentPublic
    lines: list[SaleLinePublic]
    total: int
