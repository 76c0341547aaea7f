"""Fresh databases for every test, cheaply: the migrations run once into a template, and
each test gets its own copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from gameops.server.db.migrate import upgrade

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


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self._template = root / "template.db"
        upgrade(f"sqlite+aiosqlite:///{self._template}")

    def fresh(self, directory: Path) -> str:
        target = directory / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._template, target)
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
        self._template = f"gameops_tpl_{uuid.uuid4().hex[:10]}"
        self._created: list[str] = []
        _pg_execute(f'CREATE DATABASE "{self._template}"')
        upgrade(self._url(self._template))

    def fresh(self) -> str:
        name = f"gameops_t_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        self._created.append(name)
        return self._url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        _pg_execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')

    @staticmethod
    def _url(name: str) -> str:
        return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


def on_fresh_postgres(run: Callable[[str], Awaitable[T]]) -> T:
    """``asyncio.run(run(url))`` on a new, migrated database, dropped afterwards (benches)."""
    databases = PostgresDatabases()
    url = databases.fresh()
    try:
        return asyncio.run(run(url))
    finally:
        databases.drop(url)
        databases.close()
