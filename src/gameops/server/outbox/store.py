"""Writing outbox rows in a transaction, and the relay's queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, event, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gameops.protocol import utc_now
from gameops.server.db.models import OutboxMessage

_STAGED = "gameops_outbox_staged"
_UNWRITTEN = "gameops_outbox_unwritten"
# PostgreSQL: notified by each commit that staged messages; the relay listens.
COMMITTED_CHANNEL = "gameops_outbox"
_OUTBOX = cast(Table, OutboxMessage.__table__)
# Many rows to one statement, their ids returned in the rows' order.
_INSERT = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


@dataclass(slots=True)
class Staged:
    """A message staged in a transaction; its row's id once written (``write_staged``)."""

    channel: str
    payload: dict[str, Any]
    id: int | None = None


def stage(db: AsyncSession, channel: str, payload: dict[str, Any]) -> None:
    """Publish ``payload`` on ``channel`` once this transaction has committed (and never if
    it rolls back): the row commits with the change, and the relay sends it. The rows of a
    transaction are written together, in one statement, by :func:`write_staged` (the
    dispatcher's last step), or at the latest when the transaction commits."""
    message = Staged(channel, payload)
    db.info.setdefault(_STAGED, []).append(message)
    db.info.setdefault(_UNWRITTEN, []).append(message)


async def write_staged(db: AsyncSession) -> None:
    """Insert the messages staged since the last call, one statement for all: a Core
    INSERT, not an ORM object and unit-of-work flush per message."""
    unwritten: list[Staged] = db.info.pop(_UNWRITTEN, [])
    if unwritten:
        result = await db.execute(_INSERT, _rows(unwritten))
        _number(unwritten, result.scalars().all())


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    """What a transaction staged and nobody wrote yet goes in with its commit."""
    unwritten: list[Staged] = session.info.pop(_UNWRITTEN, [])
    if unwritten:
        connection: Connection = session.connection()
        _number(unwritten, connection.execute(_INSERT, _rows(unwritten)).scalars().all())


def _rows(messages: list[Staged]) -> list[dict[str, Any]]:
    now = utc_now()
    return [{"created_at": now, "channel": m.channel, "payload": m.payload} for m in messages]


def _number(messages: list[Staged], ids: Sequence[int]) -> None:
    for message, message_id in zip(messages, ids, strict=True):
        message.id = message_id


async def announce(db: AsyncSession) -> None:
    """PostgreSQL: if this transaction staged messages, NOTIFY the relay with its commit
    (delivered only if it commits)."""
    if db.info.get(_STAGED) and db.get_bind().dialect.name == "postgresql":
        await db.execute(select(func.pg_notify(COMMITTED_CHANNEL, "")))


def staged(db: AsyncSession) -> list[Staged]:
    """The messages this transaction staged, in order (with their ids once written)."""
    return list(db.info.get(_STAGED, []))


class OutboxCommitCheck:
    """A transaction that staged messages committed if, and only if, its first outbox row
    exists (``db.engine.CommitCheck``)."""

    def marker(self, db: AsyncSession) -> int | None:
        staged: list[Staged] = db.info.get(_STAGED, [])
        return staged[0].id if staged and staged[0].id is not None else None

    async def landed(self, db: AsyncSession, marker: int) -> bool:
        found = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.id == marker))
        return found is not None


class Unsent(NamedTuple):
    id: int
    channel: str
    payload: dict[str, Any]
    created_at: datetime


async def unsent(db: AsyncSession, limit: int) -> list[Unsent]:
    """The oldest committed messages not sent yet: plain rows, not ORM objects (a burst's
    thousands of messages went through the ORM's identity map only to be read once)."""
    query = (
        select(
            OutboxMessage.id, OutboxMessage.channel, OutboxMessage.payload, OutboxMessage.created_at
        )
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [Unsent(*row) for row in (await db.execute(query)).all()]


async def mark_sent(db: AsyncSession, ids: Sequence[int], at: datetime) -> None:
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(sent_at=at)
        .execution_options(synchronize_session=False)
    )


async def oldest_unsent(db: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages wait, and since when the oldest does."""
    query = select(func.count(), func.min(OutboxMessage.created_at)).where(
        OutboxMessage.sent_at.is_(None)
    )
    count, oldest = (await db.execute(query)).one()
    return int(count), oldest


async def prune_sent_before(db: AsyncSession, cutoff: datetime) -> int:
    """Delete what was sent before ``cutoff``, but never the newest row: SQLite numbers a
    new row one past the largest id left, and an emptied table would hand out ids again
    that the bus has seen (and drops as repeats, ``bus.SeenIds``)."""
    newest = select(func.max(OutboxMessage.id)).scalar_subquery()
    result = await db.execute(
        delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff, OutboxMessage.id < newest)
    )
    return int(getattr(result, "rowcount", 0) or 0)
