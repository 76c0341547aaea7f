"""Paging a query: one place for the count and the slice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql._typing import _ColumnExpressionOrStrLabelArgument


async def fetch_page(
    db: AsyncSession,
    query: Select[Any],
    order_by: Sequence[_ColumnExpressionOrStrLabelArgument[Any]],
    offset: int,
    limit: int,
) -> tuple[Sequence[Any], int]:
    """The rows of ``query`` in ``[offset, offset + limit)`` and the total it matches."""
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await db.scalars(query.order_by(*order_by).offset(offset).limit(limit))
    return rows.all(), total
