"""Engine, sessions and the transaction boundary.

A transaction never talks to the bus: what other processes must hear of is written to the
outbox in the same transaction (``outbox/store.py``) and sent by the relay after the commit,
so a change is announced exactly when it committed, and a bus outage fails no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts

from gameops.server.errors import CommitUnknown, connection_lost

log = structlog.get_logger(__name__)
_AFTER_COMMIT = "gameops_after_commit"
_LAST = "gameops_last_before_commit"
_HELD = "gameops_held"


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
        url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"timeout": 30, "factory": _ReleasingConnection},
    )
    _tune_sqlite(engine)
    # Rows added together (a storm's audit events and outbox messages: hundreds a flush)
    # are inserted many to a statement, their ids read back with RETURNING, instead of one
    # statement each. SQLAlchemy does so only where it can match each returned id to its
    # row: SQLite numbers the rows of one INSERT in the order of its VALUES (each takes
    # the largest id so far plus one; BEGIN IMMEDIATE: no other writer in between), so
    # sorting the returned ids puts them in the rows' order, as on PostgreSQL.
    engine.sync_engine.dialect.insertmanyvalues_implicit_sentinel = (
        InsertmanyvaluesSentinelOpts.ANY_AUTOINCREMENT
    )
    return engine


class _ReleasingConnection(sqlite3.Connection):
    """Rolls back before it closes. A connection dropped mid-transaction (its task was
    cancelled between a query and its fetch: SQLAlchemy then closes it without a rollback)
    with a query left unfinished does not close: SQLite keeps it, and its write lock, until
    that query is freed, which can be never. The next connection's BEGIN IMMEDIATE then
    waited out the busy timeout (a server stop hung 30 s on its outbox drain)."""

    def close(self) -> None:
        if self.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.rollback()
        super().close()


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


class _HoldingSession(Session):
    """Holds every object it inserted until its transaction ends. The identity map keeps an
    object only while something refers to it, so a row a service wrote and let go (a
    sale's payment) was read back by the handlers that get it (the till, the receipt) in
    the same transaction: now ``db.get`` finds it without a query."""


@event.listens_for(_HoldingSession, "pending_to_persistent")
def _hold(session: Session, instance: object) -> None:
    session.info.setdefault(_HELD, []).append(instance)


@event.listens_for(_HoldingSession, "after_transaction_end")
def _let_go(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost: a savepoint's end keeps them
        session.info.pop(_HELD, None)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: responses and bus messages are built from them.
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_HoldingSession)


def after_commit(db: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run ``hook`` in this process once this transaction has committed (never if it rolls
    back). For work that must not hold the transaction open, such as switching a device
    off; its failure is logged and fails nothing. Messages for other processes go through
    the outbox (``outbox.store.stage``), which survives a crash after the commit."""
    db.info.setdefault(_AFTER_COMMIT, []).append(hook)


def last_before_commit(db: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run ``hook`` as this transaction's last work, right before its COMMIT (after the
    domain events are settled). For a write that takes a lock every concurrent transaction
    needs, such as the receipt counter's: taken last, it is held for the COMMIT and little
    else, not for the rest of the transaction. A failure rolls the transaction back."""
    db.info.setdefault(_LAST, []).append(hook)


class CommitCheck(Protocol):
    """Tells whether a transaction whose COMMIT lost its connection committed after all."""

    def marker(self, db: AsyncSession) -> int | None:
        """Something the transaction wrote that can be looked for later, if anything."""
        ...

    async def landed(self, db: AsyncSession, marker: int) -> bool:
        """Whether ``marker`` exists: then the transaction committed."""
        ...


class Database:
    """The engine and the transaction boundary every change goes through.

    ``before_commit`` runs last inside each transaction (the domain events' dispatcher);
    ``committed`` is told right after each commit, with the finished session (the outbox
    relay is woken if the transaction staged messages), and may return what to do once the
    session is closed, before the after-commit hooks (hand the messages over).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        before_commit: Callable[[AsyncSession], Awaitable[None]] | None = None,
        committed: Callable[[AsyncSession], Callable[[], None] | None] | None = None,
        commit_check: CommitCheck | None = None,
        commit_check_seconds: float = 30.0,
    ) -> None:
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)
        self._before_commit = before_commit
        self._committed = committed
        self._commit_check = commit_check
        self._commit_check_seconds = commit_check_seconds

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error, then the local hooks."""
        once_closed: Callable[[], None] | None = None
        try:
            async with self.sessionmaker() as db:
                try:
                    yield db
                    if self._before_commit is not None:
                        await self._before_commit(db)
                    await self._commit(db)
                except BaseException:
                    # On a lost connection the rollback fails too; the first error is the one.
                    with contextlib.suppress(Exception):
                        await db.rollback()
                    raise
                hooks: list[Callable[[], Awaitable[None]]] = db.info.pop(_AFTER_COMMIT, [])
                if self._committed is not None:
                    once_closed = self._committed(db)
        finally:  # committed: whatever closing the session does
            if once_closed is not None:
                once_closed()
        for hook in hooks:
            try:
                await hook()
            except Exception:
                log.exception("after-commit work failed")

    async def _commit(self, db: AsyncSession) -> None:
        """COMMIT. If the connection is lost during it, the change may or may not be saved:
        wait for the database and look for what it wrote, so the caller hears the truth
        (success, or an error for a change that is not there) rather than a guess."""
        await db.flush()
        for hook in db.info.pop(_LAST, []):
            await hook()
        await db.flush()
        marker = self._commit_check.marker(db) if self._commit_check is not None else None
        try:
            await db.commit()
        except Exception as err:
            if marker is None or self._commit_check is None or not connection_lost(err):
                raise
            if not await self._landed(self._commit_check, marker):
                raise
            log.warning("commit confirmed after its connection was lost", marker=marker)

    async def _landed(self, check: CommitCheck, marker: int) -> bool:
        deadline = asyncio.get_running_loop().time() + self._commit_check_seconds
        while True:
            try:
                async with self.sessionmaker() as db:
                    return await check.landed(db, marker)
            except Exception as err:
                if not connection_lost(err):
                    raise
            if asyncio.get_running_loop().time() > deadline:
                raise CommitUnknown("the database did not come back to confirm the commit")
            await asyncio.sleep(0.5)

    async def dispose(self) -> None:
        await self.engine.dispose()
