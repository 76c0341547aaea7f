from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.auth.passwords import Passwords
from gameops.server.auth.schemas import TokenPair
from gameops.server.auth.security import issue_token, read_token
from gameops.server.db.engine import Database
from gameops.server.db.models import User
from gameops.server.errors import TooManyRequests, Unauthorized
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.settings import Settings
from gameops.server.throttle import Rule, Throttle, Throttled
from gameops.server.users import repository

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TokenKeys:
    """How tokens are signed and how long they live."""

    secret: str
    settings: Settings


@dataclass(frozen=True)
class LoginLimits:
    per_account: Rule  # attempts since the account's last successful login
    per_ip: Rule  # failed attempts from one client address

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            Rule.of("login-account", settings.login_limit_per_account),
            Rule.of("login-ip", settings.login_limit_per_ip),
        )


class Authenticator:
    """Logins: rate-limited guesses, argon2 off the event loop, no connection held while
    hashing. Built once by the composition root."""

    def __init__(
        self,
        database: Database,
        keys: TokenKeys,
        passwords: Passwords,
        throttle: Throttle,
        limits: LoginLimits,
    ) -> None:
        self._database = database
        self._keys = keys
        self._passwords = passwords
        self._throttle = throttle
        self._limits = limits

    async def login(self, username: str, password: str, client_ip: str) -> TokenPair:
        account = username.lower()
        try:
            await self._throttle.check(self._limits.per_ip, client_ip)
            await self._throttle.acquire(self._limits.per_account, account)
        except Throttled as err:
            await throttled(self._database, err)
            raise _too_many(err) from err
        # Read in a session of its own and hash with no connection held: on SQLite the only
        # connection would otherwise wait on every queued argon2 check.
        async with self._database.sessionmaker() as db:
            user = await repository.by_username(db, username)
        valid = await self._passwords.verify(password, user.password_hash if user else None)
        if user is None or not valid or not user.is_active:
            await self._throttle.fail(self._limits.per_ip, client_ip)
            raise Unauthorized("Incorrect username or password")
        await self._throttle.reset(self._limits.per_account, account)
        return token_pair(self._keys, user)


def _too_many(err: Throttled) -> TooManyRequests:
    return TooManyRequests(
        f"Too many attempts; try again in {err.retry_after} s", retry_after=err.retry_after
    )


async def throttled(
    database: Database, err: Throttled, station_id: uuid.UUID | None = None
) -> None:
    """The audit line for a burst of guesses: once per window and key, in a transaction of
    its own (the refused request's rolls back). Its failure is logged, never raised."""
    if not err.first:
        return
    data = {"limit": err.rule.name, "key": err.key, "retry_after": err.retry_after}
    try:
        async with database.transaction() as db:
            record_event(db, EventType.AUTH_THROTTLED, station_id=station_id, data=data)
    except Exception:
        log.exception("could not record AUTH_THROTTLED", **data)


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
