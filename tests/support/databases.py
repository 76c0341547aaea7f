"""Fresh databases for every test, cheaply: the migrations run once into a template, and
each test gets its own copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL).

Two templates each: ``bare`` (migrated, nothing else) and the default, which also holds
the admin every test server is configured with (``tests/support/live_server``), written
as the server's first start writes it, except that its password is hashed at argon2's
lowest cost (a hash carries its parameters: the server checks it as it is). A test
server's start then finds its admin, and the admin's logins check in a millisecond: the
password setting costs about 0.15 s of CPU per hash, on each of a thousand starts and
more logins. Every other account is hashed by the server under test, at its settings
(tests/server/play/test_pin_hashing.py checks them). Tests of the first start, or of the
admin's own hash, ask for a bare copy (``first_start``).

On PostgreSQL, making and dropping a database waits on the server's disk (0.3-1 s each on
the 2-core CI machine): the next database is made, and the last one dropped, on a thread
while the test runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete

from gameops.server.auth.passwords import Passwords
from gameops.server.db.engine import Database, create_engine
from gameops.server.db.migrate import upgrade
from gameops.server.db.models import OutboxMessage
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.users.service import ensure_admin
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME

T = TypeVar("T")

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IN_CI = os.environ.get("CI", "").lower() == "true"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is missing on a developer's machine; fail under CI=true."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI needs it (run ../shared/scripts/ensure-services.sh)")
    pytest.skip(f"{message}; start it to run this test")


# argon2id's lowest cost (1 pass, 8 KiB, one lane): for the test servers' admin only.
CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))


def add_admin(database_url: str) -> None:
    """The test servers' admin, as a server's first start leaves it (``_bootstrap_admin``
    in gameops.server.app): its user row and its audit event; its password hashed at the
    lowest cost. The event's outbox message is gone, as the start's relay sends it to no
    one and prunes it: a test's outbox and dashboard feed begin empty."""

    async def run() -> None:
        database = Database(create_engine(database_url), before_commit=EventDispatcher().settle)
        try:
            async with database.transaction() as db:
                passwords = Passwords(hasher=CHEAP)
                await ensure_admin(db, passwords, ADMIN_USERNAME, ADMIN_PASSWORD)
            async with database.transaction() as db:
                await db.execute(delete(OutboxMessage))
        finally:
            await database.dispose()

    asyncio.run(run())


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self._bare = root / "bare.db"
        self._template = root / "template.db"
        upgrade(f"sqlite+aiosqlite:///{self._bare}")
        shutil.copyfile(self._bare, self._template)
        add_admin(f"sqlite+aiosqlite:///{self._template}")

    def fresh(self, directory: Path, first_start: bool = False) -> str:
        """A copy of the template; with ``first_start``, of the one without the admin."""
        target = directory / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._bare if first_start else self._template, target)
        return f"sqlite+aiosqlite:///{target}"


def _pg_execute(sql: str) -> None:
    """One statement on the maintenance database (CREATE/DROP DATABASE cannot run in a
    transaction, so this uses asyncpg directly, outside any test's event loop)."""

    async def run() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


class PostgresDatabases:
    def __init__(self) -> None:
        self._bare = f"gameops_tpl_{uuid.uuid4().hex[:10]}"
        self._template = f"{self._bare}_admin"
        _pg_execute(f'CREATE DATABASE "{self._bare}"')
        upgrade(self._url(self._bare))
        self._create(self._template, self._bare)
        add_admin(self._url(self._template))
        # One thread: a database is made or dropped at a time, in the order asked for.
        self._chores = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
        self._next: dict[str, Future[str]] = {}  # by template: its next copy, being made
        self._drops: list[Future[None]] = []

    def fresh(self, first_start: bool = False) -> str:
        """A new database, copied from the template (``first_start``: the bare one)."""
        template = self._bare if first_start else self._template
        made = self._next.pop(template, None)
        name = made.result() if made is not None else self._copy(template)
        self._next[template] = self._chores.submit(self._copy, template)
        return self._url(name)

    def drop(self, url: str) -> None:
        """Drop the database on the thread; ``close`` reports a drop that failed."""
        name = url.rsplit("/", 1)[-1]
        self._drops = [done for done in self._drops if not _succeeded(done)]
        self._drops.append(self._chores.submit(_pg_execute, _drop_sql(name)))

    def close(self) -> None:
        made = [future.result() for future in self._next.values()]
        self._chores.shutdown(wait=True)
        for name in [*made, self._template, self._bare]:
            _pg_execute(_drop_sql(name))
        for done in self._drops:
            done.result()

    def _copy(self, template: str) -> str:
        name = f"gameops_t_{uuid.uuid4().hex[:12]}"
        self._create(name, template)
        return name

    @staticmethod
    def _create(name: str, template: str) -> None:
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    @staticmethod
    def _url(name: str) -> str:
        return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


def _drop_sql(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def _succeeded(future: Future[None]) -> bool:
    return future.done() and future.exception() is None


def on_fresh_postgres(run: Callable[[str], Awaitable[T]]) -> T:
    """``asyncio.run(run(url))`` on a new, migrated database, dropped afterwards (benches)."""
    databases = PostgresDatabases()
    url = databases.fresh(first_start=True)
    try:
        return asyncio.run(run(url))
    finally:
        databases.drop(url)
        databases.close()
