"""Every query on customers and their ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import LedgerEntry, User
from gameops.server.db.pages import fetch_page
from gameops.server.users.domain import Role


async def get_customer(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    query = select(User).where(User.id == user_id, User.role == Role.CUSTOMER)
    user: User | None = await db.scalar(query)
    return user


async def list_customers(
    db: AsyncSession, search: str | None, offset: int, limit: int
) -> tuple[Sequence[User], int]:
    query = select(User).where(User.role == Role.CUSTOMER)
    if search:
        # autoescape: a "%" or "_" typed into the search box is that character, not a wildcard.
        query = query.where(
            or_(
                *(
                    column.icontains(search, autoescape=True)
                    for column in (User.username, User.full_name, User.phone, User.email)
                )
            )
        )
    return await fetch_page(db, query, [User.username], offset, limit)


async def take_from_balance(db: AsyncSession, user_id: uuid.UUID, amount: int) -> int | None:
    """Subtract ``amount`` if the balance covers it; the new balance, or None if short.

    One conditional UPDATE: PostgreSQL re-checks the WHERE against the newest row after
    waiting on a concurrent writer's lock, so concurrent debits can never overdraw."""
    result = await db.execute(
        update(User)
        .where(User.id == user_id, User.balance >= amount)
        .values(balance=User.balance - amount)
        .returning(User.balance)
        .execution_options(synchronize_session=False)
    )
    balance: int | None = result.scalar_one_or_none()
    return balance


async def add_to_balance(db: AsyncSession, user_id: uuid.UUID, amount: int) -> int:
    result = await db.execute(
        update(User)
        .where(User.id == user_id)
        .values(balance=User.balance + amount)
        .returning(User.balance)
        .execution_options(synchronize_session=False)
    )
    balance: int = result.scalar_one()
    return balance


async def current_balance(db: AsyncSession, user_id: uuid.UUID) -> int:
    balance: int = await db.scalar(select(User.balance).where(User.id == user_id)) or 0
    return balance


async def ledger_page(
    db: AsyncSession, user_id: uuid.UUID, offset: int, limit: int
) -> tuple[Sequence[LedgerEntry], int]:
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    return await fetch_page(db, query, [LedgerEntry.id.desc()], offset, limit)
