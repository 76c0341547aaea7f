"""Fixtures every suite can use: a fresh database per test and a real server on loopback.

``backend`` is "sqlite" here; tests/server overrides it to run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gameops.server.settings import Settings
from tests.support.databases import (
    PG_HOST,
    PG_PORT,
    PostgresDatabases,
    SqliteTemplates,
    require_service,
)
from tests.support.live_server import LiveServer, server_settings


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    databases = PostgresDatabases()
    yield databases
    databases.close()


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield request.getfixturevalue("sqlite_templates").fresh(tmp_path)
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return server_settings(database_url, tmp_path / "data")


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def admin(live_server: LiveServer) -> httpx.AsyncClient:
    return await live_server.admin_client()
