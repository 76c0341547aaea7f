from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
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


async def insert_numbered(db: AsyncSession, receipt: Receipt) -> None:
    """Store ``receipt`` under the next number, as the transaction's last work. The counter
    row's lock is held until the COMMIT and every sale waits for it, so on PostgreSQL the
    raise and the insert are one statement (``WITH numbered AS (UPDATE ...) INSERT ...``):
    the lock then spans that statement and the COMMIT, not three round trips to a server
    whose event loop is busy (sales queued 10-deep on it at 40 at a time)."""
    if db.get_bind().dialect.name != "postgresql":  # SQLite: one writer, no row locks
        receipt.number = await next_number(db)
        db.add(receipt)
        return
    receipt.id = receipt.id or uuid.uuid4()
    receipt.issued_at = receipt.issued_at or utc_now()
    table = cast(Table, Receipt.__table__)
    values = {c.key: getattr(receipt, c.key) for c in table.columns if c.key != "number"}
    numbered = (
        update(ReceiptCounter)
        .where(ReceiptCounter.id == SERIES)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
        .cte("numbered")
    )
    row = select(*(literal(v, table.c[k].type) for k, v in values.items()), numbered.c.last_number)
    result = await db.execute(
        insert(table).from_select([*values, "number"], row).returning(table.c.number)
    )
    number = result.scalar()
    if number is None:  # a database created without the migration's seed row
        receipt.number = await next_number(db)
        db.add(receipt)
        return
    receipt.number = number


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
