from __future__ import annotations

import secrets
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.auth.passwords import Passwords
from gameops.server.db.models import User
from gameops.server.errors import BadRequest, Conflict, NotFound
from gameops.server.events.base import record
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.users import repository
from gameops.server.users.domain import Role
from gameops.server.users.events import UserTokensRevoked
from gameops.server.users.schemas import MyUpdate, PasswordChange, UserCreate, UserUpdate


async def create_user(
    db: AsyncSession, passwords: Passwords, data: UserCreate, actor_id: uuid.UUID | None
) -> User:
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=await passwords.hash(data.password),
        role=data.role,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as err:
        raise Conflict(f"Username {data.username!r} is taken") from err
    record_event(
        db, EventType.USER_CREATED, actor_id=actor_id, data=_audit(user, username=user.username)
    )
    return user


async def get_user(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def update_user(
    db: AsyncSession, passwords: Passwords, user: User, data: UserUpdate, actor: User
) -> User:
    changes = data.model_dump(exclude_unset=True, exclude={"password"})
    if user.id == actor.id and (changes.get("is_active") is False or "role" in changes):
        raise Conflict("You cannot disable yourself or change your own role")
    if revokes_tokens(user, changes, data.password):
        user.token_version += 1
        record(db, UserTokensRevoked(user_id=user.id, actor_id=actor.id, reason="user changed"))
    for name, value in changes.items():
        setattr(user, name, value)
    if data.password is not None:
        user.password_hash = await passwords.hash(data.password)
        changes["password"] = "changed"
    record_event(db, EventType.USER_UPDATED, actor_id=actor.id, data=_audit(user, **changes))
    return user


async def update_me(db: AsyncSession, user: User, data: MyUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(user, name, value)
    record_event(db, EventType.USER_UPDATED, actor_id=user.id, data=_audit(user, **changes))
    return user


async def change_own_password(
    db: AsyncSession, passwords: Passwords, user: User, data: PasswordChange
) -> None:
    """The user's own password, only with the current one (a walked-away-from desk is not
    enough to take over the account). Every token issued before stops working. ``user`` is
    the caller as read for authentication: both hashes run before this transaction's first
    query, so no connection is held while they do."""
    if not await passwords.verify(data.current_password, user.password_hash):
        raise BadRequest("The current password is not right")
    new_hash = await passwords.hash(data.new_password)
    me = await get_user(db, user.id)
    me.password_hash = new_hash
    me.token_version += 1
    record_event(db, EventType.USER_UPDATED, actor_id=me.id, data=_audit(me, password="changed"))


async def ensure_admin(
    db: AsyncSession, passwords: Passwords, username: str, password: str | None
) -> str | None:
    """Create the first admin when none exists. Returns a generated password, if one was."""
    if await repository.admin_exists(db):
        return None
    generated = None if password else secrets.token_urlsafe(12)
    data = UserCreate(username=username, password=password or generated or "", role=Role.ADMIN)
    await create_user(db, passwords, data, actor_id=None)
    return generated


def revokes_tokens(user: User, changes: dict[str, object], password: str | None) -> bool:
    """A new password, another role, or disabling: every token issued before stops working."""
    return (
        password is not None
        or changes.get("role", user.role) != user.role
        or changes.get("is_active", user.is_active) is False
    )


def _audit(user: User, **fields: object) -> dict[str, object]:
    return {"user_id": str(user.id), **{k: str(v) for k, v in fields.items()}}
