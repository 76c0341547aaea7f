from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Product


async def get(db: AsyncSession, product_id: uuid.UUID, *, lock: bool = False) -> Product | None:
    query = select(Product).where(Product.id == product_id)
    if lock:
        query = query.with_for_update()
    product: Product | None = await db.scalar(query.execution_options(populate_existing=True))
    return product


async def list_products(db: AsyncSession, *, active_only: bool) -> Sequence[Product]:
    query = select(Product).order_by(Product.category, Product.name)
    if active_only:
        query = query.where(Product.active.is_(True))
    return list(await db.scalars(query))
