"""Staff accounts: admins manage them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from gameops.server.auth.service import guard
from gameops.server.deps import (
    AdminUser,
    CurrentUser,
    DatabaseDep,
    DbDep,
    PageDep,
    PasswordsDep,
    SettingsDep,
    ThrottleDep,
)
from gameops.server.schemas import Paginated
from gameops.server.throttle import Rule
from gameops.server.users import repository, service
from gameops.server.users.domain import Role
from gameops.server.users.schemas import (
    MyUpdate,
    PasswordChange,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/users", tags=["users"])
STAFF_ROLES = (Role.ADMIN, Role.OPERATOR)


# Before /{user_id}: "me" is not a user id.
@router.patch("/me")
async def update_me(body: MyUpdate, db: DbDep, user: CurrentUser) -> UserPublic:
    me = await service.get_user(db, user.id)  # the caller was read in a session of its own
    return UserPublic.model_validate(await service.update_me(db, me, body))


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_my_password(
    body: PasswordChange,
    db: DbDep,
    passwords: PasswordsDep,
    user: CurrentUser,
    throttle: ThrottleDep,
    database: DatabaseDep,
    settings: SettingsDep,
) -> None:
    """Rate-limited like logins: guesses of the current password past the per-account limit
    answer 429 with ``Retry-After``."""
    rule = Rule.of("password-change", settings.login_limit_per_account)
    await guard(throttle, database, rule, str(user.id))
    await service.change_own_password(db, passwords, user, body)
    await throttle.reset(rule, str(user.id))


@router.get("", response_model=Paginated[UserPublic])
async def list_staff(db: DbDep, _: AdminUser, page: PageDep) -> Paginated[UserPublic]:
    rows, total = await repository.list_users(db, STAFF_ROLES, page.offset, page.per_page)
    return page.of(UserPublic, rows, total)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_staff(
    body: UserCreate, db: DbDep, passwords: PasswordsDep, admin: AdminUser
) -> UserPublic:
    return UserPublic.model_validate(await service.create_user(db, passwords, body, admin.id))


@router.get("/{user_id}")
async def get_staff(user_id: uuid.UUID, db: DbDep, _: AdminUser) -> UserPublic:
    return UserPublic.model_validate(await service.get_user(db, user_id))


@router.patch("/{user_id}")
async def update_staff(
    user_id: uuid.UUID, body: UserUpdate, db: DbDep, passwords: PasswordsDep, admin: AdminUser
) -> UserPublic:
    user = await service.get_user(db, user_id)
    return UserPublic.model_validate(await service.update_user(db, passwords, user, body, admin))
