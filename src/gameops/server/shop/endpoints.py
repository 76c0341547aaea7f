"""Snacks and drinks: the product list (admins keep it) and sales at the desk."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gameops.server.deps import AdminUser, DbDep, SettingsDep, StaffUser
from gameops.server.payments.domain import Refusal
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.shop import repository, service
from gameops.server.shop.schemas import (
    ProductCreate,
    ProductPublic,
    ProductUpdate,
    ShopSaleCreate,
    ShopSalePublic,
)

router = APIRouter(prefix="/shop", tags=["shop"])


@router.get("/products")
async def list_products(
    db: DbDep, _: StaffUser, include_inactive: bool = False
) -> list[ProductPublic]:
    rows = await repository.list_products(db, active_only=not include_inactive)
    return [ProductPublic.model_validate(p) for p in rows]


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(
    body: ProductCreate, settings: SettingsDep, db: DbDep, admin: AdminUser
) -> ProductPublic:
    return ProductPublic.model_validate(await service.create_product(settings, db, body, admin))


@router.patch("/products/{product_id}")
async def update_product(
    product_id: uuid.UUID, body: ProductUpdate, db: DbDep, admin: AdminUser
) -> ProductPublic:
    return ProductPublic.model_validate(await service.update_product(db, product_id, body, admin))


@router.post(
    "/sales",
    status_code=status.HTTP_201_CREATED,
    response_model=ShopSalePublic,
    responses={400: {"description": "Insufficient balance (payment recorded FAILED)"}},
)
async def sell(
    body: ShopSaleCreate,
    settings: SettingsDep,
    db: DbDep,
    staff: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Sell to a walk-in (CASH, needs an open shift) or on a customer's balance. With an
    ``Idempotency-Key``, a retry gets the first answer and sells nothing again."""

    async def run() -> Answer:
        sale = await service.sell(settings, db, body, staff)
        if isinstance(sale, Refusal):
            return sale.status_code, sale.body()
        return 201, sale.model_dump(mode="json")

    print_ = fingerprint("shop.sale", staff.id, body.model_dump(mode="json"))
    return await answer_once(db, idempotency_key, print_, staff.id, run)
