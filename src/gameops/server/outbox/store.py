"""Writing outbox rows in a transaction, and the relay's queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import OutboxMessage

_STAGED = "gameops_outbox_staged"
# PostgreSQL: notified by each commit that staged messages; the relay listens.
COMMITTED_CHANNEL = "gameops_outbox"


def stage(db: AsyncSession, channel: str, payload: dict[str, Any]) -> None:
    """Publish ``payload`` on ``channel`` once this transaction has committed (and never if
    it rolls back): the row commits with the change, and the relay sends it."""
    message = OutboxMessage(channel=channel, payload=payload)
    db.add(message)
    db.info.setdefault(_STAGED, []).append(message)


async def announce(db: AsyncSession) -> None:
    """PostgreSQL: if this transaction staged messages, NOTIFY the relay with its commit
    (delivered only if it commits)."""
    if db.info.get(_STAGED) and db.get_bind().dialect.name == "postgresql":
        await db.execute(select(func.pg_notify(COMMITTED_CHANNEL, "")))


def staged(db: AsyncSession) -> list[OutboxMessage]:
    """The messages this transaction staged, in order (with their ids once flushed)."""
    return list(db.info.get(_STAGED, []))


class OutboxCommitCheck:
    """A transaction that staged messages committed if, and only if, its first outbox row
    exists (``db.engine.CommitCheck``)."""

    def marker(self, db: AsyncSession) -> int | None:
        staged: list[OutboxMessage] = db.info.get(_STAGED, [])
        return staged[0].id if staged and staged[0].id is not None else None

    async def landed(self, db: AsyncSession, marker: int) -> bool:
        found = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.id == marker))
        return found is not None


async def unsent(db: AsyncSession, limit: int) -> Sequence[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return (await db.scalars(query)).all()


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
