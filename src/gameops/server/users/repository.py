from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import User
from gameops.server.db.pages import fetch_page
from gameops.server.users.domain import Role


async def by_username(db: AsyncSession, username: str) -> User | None:
    user: User | None = await db.scalar(select(User).where(User.username == username))
    return user


async def admin_exists(db: AsyncSession) -> bool:
    query = select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).limit(1)
    return await db.scalar(query) is not None


async def list_users(
    db: AsyncSession, roles: Sequence[Role], offset: int, limit: int
) -> tuple[Sequence[User], int]:
    query = select(User).where(User.role.in_(roles))
    return await fetch_page(db, query, (User.username,), offset, limit)
