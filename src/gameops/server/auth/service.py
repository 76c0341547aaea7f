from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.auth.schemas import TokenPair
from gameops.server.auth.security import issue_token, read_token, verify_password
from gameops.server.context import AppContext
from gameops.server.db.models import User
from gameops.server.errors import Unauthorized
from gameops.server.users import repository


async def login(context: AppContext, db: AsyncSession, username: str, password: str) -> TokenPair:
    user = await repository.by_username(db, username)
    valid = verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise Unauthorized("Incorrect username or password")
    return token_pair(context, user)


async def refresh(context: AppContext, db: AsyncSession, refresh_token: str) -> TokenPair:
    claims = read_token(context.jwt_secret, refresh_token, "refresh")
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("User is unknown or disabled")
    return token_pair(context, user)


def token_pair(context: AppContext, user: User) -> TokenPair:
    settings, now = context.settings, utc_now()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    refresh_ttl = timedelta(days=settings.refresh_token_days)
    return TokenPair(
        access_token=issue_token(context.jwt_secret, user.id, user.role, "access", now, access_ttl),
        refresh_token=issue_token(
            context.jwt_secret, user.id, user.role, "refresh", now, refresh_ttl
        ),
        expires_in=int(access_ttl.total_seconds()),
    )
