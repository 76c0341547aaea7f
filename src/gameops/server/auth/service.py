from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.auth.passwords import Passwords
from gameops.server.auth.schemas import TokenPair
from gameops.server.auth.security import issue_token, read_token
from gameops.server.db.engine import Database
from gameops.server.db.models import User
from gameops.server.errors import Unauthorized
from gameops.server.settings import Settings
from gameops.server.users import repository


@dataclass(frozen=True)
class TokenKeys:
    """How tokens are signed and how long they live."""

    secret: str
    settings: Settings


async def login(
    keys: TokenKeys, passwords: Passwords, database: Database, username: str, password: str
) -> TokenPair:
    # Read in a session of its own and hash with no connection held: on SQLite the only
    # connection would otherwise wait on every queued argon2 check.
    async with database.sessionmaker() as db:
        user = await repository.by_username(db, username)
    valid = await passwords.verify(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise Unauthorized("Incorrect username or password")
    return token_pair(keys, user)


async def refresh(keys: TokenKeys, db: AsyncSession, refresh_token: str) -> TokenPair:
    claims = read_token(keys.secret, refresh_token, "refresh")
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("User is unknown or disabled")
    return token_pair(keys, user)


def token_pair(keys: TokenKeys, user: User) -> TokenPair:
    settings, now = keys.settings, utc_now()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    refresh_ttl = timedelta(days=settings.refresh_token_days)
    return TokenPair(
        access_token=issue_token(keys.secret, user.id, user.role, "access", now, access_ttl),
        refresh_token=issue_token(keys.secret, user.id, user.role, "refresh", now, refresh_ttl),
        expires_in=int(access_ttl.total_seconds()),
    )
