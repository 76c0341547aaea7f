"""Customers, their balance and its history. Staff manage customers; a customer who logs
in sees only their own account."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from gameops.server.accounts import repository, service
from gameops.server.accounts.domain import check_amount, check_currency
from gameops.server.accounts.schemas import (
    AdjustmentRequest,
    AdjustmentResult,
    CustomerCreate,
    CustomerPublic,
    CustomerUpdate,
    LedgerEntryPublic,
)
from gameops.server.deps import (
    AdminUser,
    CurrentUser,
    DbDep,
    PageDep,
    PasswordsDep,
    SettingsDep,
    StaffUser,
)
from gameops.server.errors import Forbidden
from gameops.server.schemas import Paginated
from gameops.server.users.domain import Role

router = APIRouter(tags=["customers"])


@router.post("/customers", status_code=status.HTTP_201_CREATED)
async def create_customer(
    body: CustomerCreate, db: DbDep, passwords: PasswordsDep, staff: StaffUser
) -> CustomerPublic:
    customer = await service.create_customer(db, passwords, body, staff.id)
    return CustomerPublic.model_validate(customer)


@router.get("/customers", response_model=Paginated[CustomerPublic])
async def list_customers(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=64, description="part of name/phone/email")] = None,
) -> Paginated[CustomerPublic]:
    rows, total = await repository.list_customers(db, q, page.offset, page.per_page)
    return page.of(CustomerPublic, rows, total)


@router.get("/customers/me")
async def my_account(db: DbDep, user: CurrentUser) -> CustomerPublic:
    return CustomerPublic.model_validate(await service.get_customer(db, _as_customer(user)))


@router.get("/customers/me/ledger", response_model=Paginated[LedgerEntryPublic])
async def my_ledger(db: DbDep, user: CurrentUser, page: PageDep) -> Paginated[LedgerEntryPublic]:
    rows, total = await repository.ledger_page(db, _as_customer(user), page.offset, page.per_page)
    return page.of(LedgerEntryPublic, rows, total)


@router.get("/customers/{user_id}")
async def get_customer(user_id: uuid.UUID, db: DbDep, _: StaffUser) -> CustomerPublic:
    return CustomerPublic.model_validate(await service.get_customer(db, user_id))


@router.patch("/customers/{user_id}")
async def update_customer(
    user_id: uuid.UUID, body: CustomerUpdate, db: DbDep, passwords: PasswordsDep, staff: StaffUser
) -> CustomerPublic:
    customer = await service.get_customer(db, user_id)
    return CustomerPublic.model_validate(
        await service.update_customer(db, passwords, customer, body, staff.id)
    )


@router.get("/customers/{user_id}/ledger", response_model=Paginated[LedgerEntryPublic])
async def customer_ledger(
    user_id: uuid.UUID, db: DbDep, _: StaffUser, page: PageDep
) -> Paginated[LedgerEntryPublic]:
    customer = await service.get_customer(db, user_id)
    rows, total = await repository.ledger_page(db, customer.id, page.offset, page.per_page)
    return page.of(LedgerEntryPublic, rows, total)


@router.post("/users/{user_id}/adjustments", status_code=status.HTTP_201_CREATED)
async def adjust_balance(
    user_id: uuid.UUID, body: AdjustmentRequest, settings: SettingsDep, db: DbDep, admin: AdminUser
) -> AdjustmentResult:
    currency = settings.currency
    check_currency(body.currency, currency)
    check_amount(body.amount, settings.max_amount)
    customer = await service.get_customer(db, user_id)
    movement = service.Movement(currency=currency, reason=body.reason, actor_id=admin.id)
    entry = await service.adjust(db, customer, body.amount, movement)
    await db.flush()
    return AdjustmentResult(
        customer=CustomerPublic.model_validate(customer),
        entry=LedgerEntryPublic.model_validate(entry),
    )


def _as_customer(user: CurrentUser) -> uuid.UUID:
    if user.role is not Role.CUSTOMER:
        raise Forbidden("Only customers have an account here; staff use /customers/{id}")
    return user.id
