from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import GameSession, Payment, Shift, ShiftCorrection, User
from gameops.server.db.pages import fetch_page
from gameops.server.payments.domain import PaymentPurpose, PaymentStatus
from gameops.server.shifts.domain import ShiftPayment, ShiftStatus


async def open_shift(db: AsyncSession, *, lock: bool = False, shared: bool = False) -> Shift | None:
    """The open shift. Locked, a payment joining it waits for a close in progress and then
    finds no open shift, so no payment lands in a closed shift. ``shared`` (FOR SHARE): a
    payment's lock, which waits for a close (FOR UPDATE) but not for other payments, so
    that sales do not queue on the shift's row for the rest of their transactions."""
    query = select(Shift).where(Shift.status == ShiftStatus.OPEN)
    if lock:
        query = query.with_for_update(read=shared)
    shift: Shift | None = await db.scalar(query.execution_options(populate_existing=True))
    return shift


async def get(db: AsyncSession, shift_id: uuid.UUID, *, lock: bool = False) -> Shift | None:
    query = select(Shift).where(Shift.id == shift_id)
    if lock:
        query = query.with_for_update()
    shift: Shift | None = await db.scalar(query.execution_options(populate_existing=True))
    return shift


async def payments_of(db: AsyncSession, shift_id: uuid.UUID) -> list[ShiftPayment]:
    query = select(Payment.amount, Payment.method, Payment.purpose).where(
        Payment.shift_id == shift_id, Payment.status == PaymentStatus.COMPLETED
    )
    return [ShiftPayment(r.amount, r.method, r.purpose) for r in await db.execute(query)]


async def operators_of(db: AsyncSession, shift_id: uuid.UUID) -> list[str]:
    """Who took the shift's payments, by name."""
    query = (
        select(User.username)
        .join(Payment, Payment.created_by == User.id)
        .where(Payment.shift_id == shift_id)
        .distinct()
        .order_by(User.username)
    )
    return list(await db.scalars(query))


async def corrections_of(db: AsyncSession, shift_id: uuid.UUID) -> Sequence[ShiftCorrection]:
    query = (
        select(ShiftCorrection)
        .where(ShiftCorrection.shift_id == shift_id)
        .order_by(ShiftCorrection.id)
    )
    return list(await db.scalars(query))


async def username(db: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    name: str | None = await db.scalar(select(User.username).where(User.id == user_id))
    return name


async def list_shifts(db: AsyncSession, offset: int, limit: int) -> tuple[Sequence[Shift], int]:
    order = (Shift.opened_at.desc(), Shift.id)
    return await fetch_page(db, select(Shift), order, offset, limit)


VOIDED = "voided"  # sessions.domain.EndReason.VOIDED: a sale given back whole


async def voids_of(db: AsyncSession, shift_id: uuid.UUID) -> int:
    """Sales given back whole in the shift (a PC that never took its session)."""
    query = (
        select(func.count())
        .select_from(Payment)
        .join(GameSession, Payment.session_id == GameSession.id)
        .where(
            Payment.shift_id == shift_id,
            Payment.purpose == PaymentPurpose.REFUND,
            Payment.status == PaymentStatus.COMPLETED,
            GameSession.end_reason == VOIDED,
        )
    )
    return int(await db.scalar(query) or 0)
