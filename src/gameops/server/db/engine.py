"""Engine, sessions and the transaction boundary.

A transaction collects bus messages while it runs (:func:`after_commit`); they are published
only once the commit succeeded, so nobody hears of a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gameops.server.bus import EventBus

Outgoing = tuple[str, Callable[[], dict[str, Any]]]
_OUTBOX = "gameops_outbox"


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so that two writers queue on the lock
    (busy timeout) instead of one failing with "database is locked" on upgrade from read."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: responses and bus messages are built from them.
    return async_sessionmaker(engine, expire_on_commit=False)


def after_commit(db: AsyncSession, channel: str, build: Callable[[], dict[str, Any]]) -> None:
    """Publish ``build()`` on ``channel`` once this transaction has committed."""
    db.info.setdefault(_OUTBOX, []).append((channel, build))


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error, then publish."""
    async with sessionmaker() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        outgoing: list[Outgoing] = db.info.pop(_OUTBOX, [])
    for channel, build in outgoing:
        await bus.publish(channel, build())
