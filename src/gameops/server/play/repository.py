"""Every query of self-service play."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import GameSession, GuestTicket, PlaySession, Station, User
from gameops.server.db.pages import fetch_page
from gameops.server.users.domain import Role


async def member_by_login(db: AsyncSession, login: str) -> User | None:
    """A customer by username (any case) or member card number."""
    query = select(User).where(
        User.role == Role.CUSTOMER,
        (func.lower(User.username) == login.lower()) | (User.card_number == login),
    )
    user: User | None = (await db.scalars(query.limit(1))).first()
    return user


async def open_play(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> PlaySession | None:
    query = select(PlaySession).where(
        PlaySession.session_id == session_id, PlaySession.ended_at.is_(None)
    )
    if lock:
        query = query.with_for_update()
    play: PlaySession | None = await db.scalar(query)
    return play


async def open_plays(
    db: AsyncSession, session_ids: Sequence[uuid.UUID], *, lock: bool = False
) -> list[PlaySession]:
    """The open logins of those of ``session_ids`` that have one, in session id order."""
    query = (
        select(PlaySession)
        .where(PlaySession.session_id.in_(sorted(session_ids)), PlaySession.ended_at.is_(None))
        .order_by(PlaySession.session_id)
    )
    if lock:
        query = query.with_for_update()
    return list(await db.scalars(query))


async def open_login_station(
    db: AsyncSession, *, user_id: uuid.UUID | None = None, ticket_id: uuid.UUID | None = None
) -> str | None:
    """The name of the station where this member (or ticket) is logged in now, if any."""
    query = select(Station.name).join(PlaySession, PlaySession.station_id == Station.id)
    query = query.where(PlaySession.ended_at.is_(None))
    if user_id is not None:
        query = query.where(PlaySession.user_id == user_id)
    else:
        query = query.where(PlaySession.ticket_id == ticket_id)
    name: str | None = await db.scalar(query.limit(1))
    return name


async def due_for_renewal(db: AsyncSession, until: datetime) -> Sequence[uuid.UUID]:
    query = select(PlaySession.session_id).where(
        PlaySession.ended_at.is_(None), PlaySession.block_ends_at <= until
    )
    return (await db.scalars(query.order_by(PlaySession.block_ends_at))).all()


async def ticket_by_hash(
    db: AsyncSession, code_hash: str, *, lock: bool = False
) -> GuestTicket | None:
    query = select(GuestTicket).where(GuestTicket.code_hash == code_hash)
    if lock:
        query = query.with_for_update()
    ticket: GuestTicket | None = await db.scalar(query)
    return ticket


async def get_ticket(
    db: AsyncSession, ticket_id: uuid.UUID, *, lock: bool = False
) -> GuestTicket | None:
    query = select(GuestTicket).where(GuestTicket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    ticket: GuestTicket | None = await db.scalar(query)
    return ticket


async def tickets_page(
    db: AsyncSession, offset: int, limit: int
) -> tuple[Sequence[GuestTicket], int]:
    query = select(GuestTicket)
    return await fetch_page(db, query, [GuestTicket.created_at.desc()], offset, limit)


async def sessions_of(
    db: AsyncSession, user_id: uuid.UUID, limit: int
) -> Sequence[tuple[GameSession, str]]:
    """A customer's sessions, newest first, with the station's name."""
    query = (
        select(GameSession, Station.name)
        .join(Station, Station.id == GameSession.station_id)
        .where(GameSession.user_id == user_id)
        .order_by(GameSession.started_at.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await db.execute(query)).all()]
