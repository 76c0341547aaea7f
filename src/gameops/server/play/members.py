"""The member's own page (``/me``): their sessions, and changing their PIN."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.auth.passwords import Passwords
from gameops.server.db.models import User
from gameops.server.errors import BadRequest, Forbidden
from gameops.server.events.base import Noted, record
from gameops.server.events.domain import EventType
from gameops.server.play import repository
from gameops.server.play.schemas import MySession, PinChange
from gameops.server.users.domain import Role


def ensure_customer(user: User) -> User:
    if user.role is not Role.CUSTOMER:
        raise Forbidden("This page is for customers; staff use the dashboard")
    return user


async def my_sessions(db: AsyncSession, user: User, limit: int) -> list[MySession]:
    rows = await repository.sessions_of(db, ensure_customer(user).id, limit)
    return [
        MySession(
            id=session.id,
            station=station,
            status=session.status.value,
            started_at=session.started_at,
            ended_at=session.actual_end_at,
            amount_total=session.amount_total,
        )
        for session, station in rows
    ]


async def change_pin(db: AsyncSession, passwords: Passwords, user: User, body: PinChange) -> None:
    """The member changes their PIN (it logs in at the PCs and here): the current one first."""
    # The caller was read in a session of its own (deps.py): change this transaction's row.
    customer = await db.get(User, ensure_customer(user).id, with_for_update=True)
    if customer is None:
        raise Forbidden("Unknown customer")
    if not await passwords.verify(body.current, customer.password_hash):
        raise BadRequest("The current PIN or password is wrong")
    customer.password_hash = await passwords.hash_pin(body.new_pin)
    customer.token_version += 1  # tokens issued before the change stop working
    record(
        db,
        Noted(
            actor_id=customer.id,
            audit_type=EventType.USER_UPDATED,
            data={"user_id": str(customer.id), "password": "changed", "by": "self"},
        ),
    )
