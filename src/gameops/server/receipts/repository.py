from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Receipt, ReceiptCounter, ShopSaleLine, Station, User
from gameops.server.db.pages import fetch_page
from gameops.server.receipts.domain import Line

SERIES = 1


async def next_number(db: AsyncSession) -> int:
    """Raise the counter and return the new number, in the caller's transaction. The
    UPDATE takes the counter row's lock until commit: a concurrent sale waits, then reads
    the committed number (no repeat); a rollback undoes the raise (no gap)."""
    number = await db.scalar(
        update(ReceiptCounter)
        .where(ReceiptCounter.id == SERIES)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    if number is None:  # a database created without the migration's seed row
        db.add(ReceiptCounter(id=SERIES, last_number=1))
        await db.flush()
        return 1
    return int(number)


async def station_name(db: AsyncSession, station_id: uuid.UUID | None) -> str | None:
    if station_id is None:
        return None
    # The sale's transaction has its station already (locked): no query then.
    station = await db.get(Station, station_id)
    return station.name if station is not None else None


async def person(db: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    row = (
        await db.execute(select(User.full_name, User.username).where(User.id == user_id))
    ).one_or_none()
    return (row.full_name or row.username) if row is not None else None


async def get(db: AsyncSession, receipt_id: uuid.UUID) -> Receipt | None:
    return await db.get(Receipt, receipt_id)


async def list_receipts(
    db: AsyncSession,
    offset: int,
    limit: int,
    *,
    payment_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> tuple[Sequence[Receipt], int]:
    query = select(Receipt)
    if payment_id is not None:
        query = query.where(Receipt.payment_id == payment_id)
    if session_id is not None:
        query = query.where(Receipt.session_id == session_id)
    if user_id is not None:
        query = query.where(Receipt.user_id == user_id)
    return await fetch_page(db, query, (Receipt.number.desc(),), offset, limit)


async def shop_lines(db: AsyncSession, payment_id: uuid.UUID) -> list[Line]:
    query = (
        select(ShopSaleLine).where(ShopSaleLine.payment_id == payment_id).order_by(ShopSaleLine.id)
    )
    return [
        Line(row.name, row.quantity, row.unit_price, row.amount, row.tax_rate_bp)
        for row in await db.scalars(query)
    ]
