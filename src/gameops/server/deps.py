"""Request dependencies. Routes read like sentences: ``db: DbDep, user: StaffUser``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.auth.passwords import Passwords
from gameops.server.auth.security import read_token
from gameops.server.auth.service import Authenticator, TokenKeys
from gameops.server.db.engine import Database
from gameops.server.db.models import User
from gameops.server.errors import Forbidden, Unauthorized
from gameops.server.schemas import PageMeta, Paginated
from gameops.server.settings import Settings
from gameops.server.throttle import Throttle
from gameops.server.users.domain import Role

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T")


# The parts the composition root (app.py) built, each as the type it is. Nothing here
# builds anything: it hands requests what was built once at start-up.


def _built(name: str, kind: type[T]) -> Callable[[Request], T]:
    """The dependency that hands a request ``app.state.<name>``, a ``kind``."""

    def part(request: Request) -> T:
        built: T = getattr(request.app.state, name)
        return built

    part.__name__ = f"get_{name}"
    return part


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(_built("settings", Settings))]
DatabaseDep = Annotated[Database, Depends(_built("database", Database))]
TokenKeysDep = Annotated[TokenKeys, Depends(_built("token_keys", TokenKeys))]
PasswordsDep = Annotated[Passwords, Depends(_built("passwords", Passwords))]
AuthenticatorDep = Annotated[Authenticator, Depends(_built("authenticator", Authenticator))]
# Rate limits for guesses of any secret (PC logins, ticket codes): see throttle.py.
ThrottleDep = Annotated[Throttle, Depends(_built("throttle", Throttle))]


async def get_db(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed after the route returns, before the response
    is sent, so a client never sees success for a change that failed to commit."""
    async with database.transaction() as db:
        yield db


DbDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
_bearer = HTTPBearer(auto_error=False)


async def current_user(
    keys: TokenKeysDep,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The caller, read in a short session of its own: the request's transaction (if it has
    one) begins only when the route needs it, so a route may do work before it (switch a
    console on) and hold no lock meanwhile."""
    if credentials is None:
        raise Unauthorized("Not authenticated")
    async with database.sessionmaker() as db:
        return await user_from_access_token(keys.secret, db, credentials.credentials)


async def user_from_access_token(secret: str, db: AsyncSession, token: str) -> User:
    claims = read_token(secret, token, "access")
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("User is unknown or disabled")
    if user.token_version != claims.version:
        raise Unauthorized("Token revoked (password, role or account changed); log in again")
    return user


def _requires(*roles: Role) -> object:
    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(f"Requires role {' or '.join(r.value for r in roles)}")
        return user

    return Depends(check)


CurrentUser = Annotated[User, Depends(current_user)]
StaffUser = Annotated[User, _requires(Role.ADMIN, Role.OPERATOR)]
AdminUser = Annotated[User, _requires(Role.ADMIN)]


# Past this a page can only be empty, and a larger number would overflow the SQL OFFSET.
MAX_PAGE = 1_000_000
MAX_ID = 2**63 - 1


class Page:
    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
        per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> None:
        self.page = page
        self.per_page = per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def of(self, schema: type[S], rows: Sequence[object], total: int) -> Paginated[S]:
        """``rows`` (one page of ORM objects) as the API's paginated answer."""
        return Paginated(
            items=[schema.model_validate(row) for row in rows],
            meta=PageMeta.of(self.page, self.per_page, total),
        )


PageDep = Annotated[Page, Depends()]
