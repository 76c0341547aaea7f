"""Every query on payments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Payment, User
from gameops.server.payments.domain import PaymentMethod, PaymentStatus


async def lock_balance(db: AsyncSession, user_id: uuid.UUID) -> int:
    """The customer's balance, with the row locked until commit (FOR UPDATE; SQLite has a
    single writer anyway), so nobody spends it between our check and our debit."""
    query = select(User.balance).where(User.id == user_id).with_for_update()
    balance: int = await db.scalar(query) or 0
    return balance


async def get(db: AsyncSession, payment_id: uuid.UUID, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id)
    if lock:
        query = query.with_for_update()
    payment: Payment | None = await db.scalar(query.execution_options(populate_existing=True))
    return payment


async def by_intent(db: AsyncSession, intent_id: str, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.gateway_intent_id == intent_id)
    if lock:
        query = query.with_for_update()
    payment: Payment | None = await db.scalar(query.execution_options(populate_existing=True))
    return payment


async def pending_for_session(db: AsyncSession, session_id: uuid.UUID) -> Payment | None:
    query = select(Payment).where(
        Payment.session_id == session_id, Payment.status == PaymentStatus.PENDING
    )
    payment: Payment | None = await db.scalar(query.with_for_update().limit(1))
    return payment


async def pending_card_payments(db: AsyncSession, created_before: datetime) -> Sequence[uuid.UUID]:
    query = select(Payment.id).where(
        Payment.method == PaymentMethod.CARD,
        Payment.status == PaymentStatus.PENDING,
        Payment.created_at <= created_before,
    )
    return (await db.scalars(query)).all()
