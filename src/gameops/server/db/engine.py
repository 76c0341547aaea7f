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
    # One connection, handed out in FIFO order: SQLite has one writer anyway, and queueing
    # on the pool is fair and instant where waiting on SQLite's busy handler sleeps and
    # backs off (it gave a p99 near a second with a hundred agents acking at once).
    engine = create_async_engine(
        url, pool_size=1, max_overflow=0, pool_timeout=60, connect_args={"timeout": 30}
    )
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, and BEGIN IMMEDIATE so that another process writing (a migration, a CLI chore)
    makes us wait on the lock instead of failing with "database is locked" mid-transaction."""

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
