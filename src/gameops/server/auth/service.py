from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.auth import repository
from gameops.server.auth.passwords import Passwords
from gameops.server.auth.schemas import TokenPair
from gameops.server.auth.security import issue_token, read_token
from gameops.server.db.engine import Database
from gameops.server.db.models import RefreshToken, User
from gameops.server.errors import TooManyRequests, Unauthorized
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.metrics import Metrics
from gameops.server.settings import Settings
from gameops.server.throttle import Rule, Throttle, Throttled
from gameops.server.users import repository as users

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
        metrics: Metrics,
    ) -> None:
        self._database = database
        self._failures = metrics.login_failures
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
            self._failures.labels("throttled").inc()
            await throttled(self._database, err)
            raise _too_many(err) from err
        # Read in a session of its own and hash with no connection held: on SQLite the only
        # connection would otherwise wait on every queued argon2 check.
        async with self._database.sessionmaker() as db:
            user = await users.by_username(db, username)
        valid = await self._passwords.verify(password, user.password_hash if user else None)
        if user is None or not valid or not user.is_active:
            await self._throttle.fail(self._limits.per_ip, client_ip)
            self._failures.labels("credentials").inc()
            raise Unauthorized("Incorrect username or password")
        await self._throttle.reset(self._limits.per_account, account)
        async with self._database.transaction() as db:
            await repository.delete_expired(db, utc_now() - timedelta(days=1))
            return await issue_pair(db, self._keys, user, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a refresh token, which is then used up (rotation). Within a few
        seconds of its use it still gets a pair (its first answer may have been lost). Later, a
        used one presented again was copied: its whole family (every token since that login) is
        revoked, the thief's and the owner's alike, and the owner logs in again."""
        claims = read_token(self._keys.secret, refresh_token, "refresh")
        token_id = _token_row_id(claims.token_id)
        now, refusal = utc_now(), None
        async with self._database.transaction() as db:
            family_id = await repository.claim(db, token_id, now)
            if family_id is None:
                family_id, refusal = await self._reclaim(db, token_id, now)
            if family_id is not None:
                user = await db.get(User, claims.user_id)
                refusal = _stale(user, claims.version)
                if user is not None and refusal is None:
                    return await issue_pair(db, self._keys, user, family_id)
        # Outside the transaction: a family revoked above stays revoked.
        raise Unauthorized(refusal or "Invalid refresh token")

    async def logout(self, refresh_token: str) -> None:
        """Revoke the login this refresh token belongs to (all its refresh tokens)."""
        claims = read_token(self._keys.secret, refresh_token, "refresh")
        if claims.family_id is None:
            raise Unauthorized("Invalid refresh token")
        async with self._database.transaction() as db:
            await repository.revoke_family(db, claims.family_id, utc_now())

    async def _reclaim(
        self, db: AsyncSession, token_id: uuid.UUID, now: datetime
    ) -> tuple[uuid.UUID | None, str | None]:
        """A used token's family when it was used within the grace, else why not."""
        row = await repository.get(db, token_id)
        if row is None or row.revoked_at is not None or row.used_at is None:
            return None, "Refresh token revoked or expired; log in again"
        grace = timedelta(seconds=self._keys.settings.refresh_reuse_grace_seconds)
        if now - row.used_at <= grace:
            # Two tabs refreshing at once, or a page that left before its refresh's answer
            # came: the first answer may never have been stored, so this one gets a pair too.
            return row.family_id, None
        revoked = await repository.revoke_family(db, row.family_id, now)
        record_event(
            db,
            EventType.REFRESH_TOKEN_REUSED,
            actor_id=row.user_id,
            data={"user_id": str(row.user_id), "family_id": str(row.family_id), "revoked": revoked},
        )
        log.warning("refresh token reused; its family is revoked", user_id=str(row.user_id))
        return None, "Refresh token reused; log in again"


def _token_row_id(token_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex=token_id)
    except ValueError as err:
        raise Unauthorized("Invalid refresh token; log in again") from err


def _stale(user: User | None, version: int) -> str | None:
    """Why tokens issued to ``user`` at ``version`` no longer count, if they do not."""
    if user is None or not user.is_active:
        return "User is unknown or disabled"
    if user.token_version != version:
        return "Token revoked (password, role or account changed); log in again"
    return None


async def guard(throttle: Throttle, database: Database, rule: Rule, key: str) -> None:
    """Count an attempt at ``rule`` for ``key``: past the limit, 429 with ``Retry-After``
    (and the burst's one audit line). For any route that takes guesses of a secret."""
    try:
        await throttle.acquire(rule, key)
    except Throttled as err:
        await throttled(database, err)
        raise _too_many(err) from err


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


async def issue_pair(
    db: AsyncSession, keys: TokenKeys, user: User, family_id: uuid.UUID
) -> TokenPair:
    """An access token and a refresh token (recorded, so that it can be used once)."""
    settings, now = keys.settings, utc_now()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    refresh_ttl = timedelta(days=settings.refresh_token_days)
    token_id = uuid.uuid4()
    db.add(
        RefreshToken(
            id=token_id,
            family_id=family_id,
            user_id=user.id,
            issued_at=now,
            expires_at=now + refresh_ttl,
        )
    )
    version = user.token_version
    return TokenPair(
        access_token=issue_token(
            keys.secret, user.id, user.role, "access", now, access_ttl, version=version
        ),
        refresh_token=issue_token(
            keys.secret,
            user.id,
            user.role,
            "refresh",
            now,
            refresh_ttl,
            version=version,
            token_id=token_id,
            family_id=family_id,
        ),
        expires_in=int(access_ttl.total_seconds()),
    )
