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

# `make test` runs on pytest-xdist workers (--dist loadgroup). The tests of a module listed
# here share an expensive set-up, or must not run beside each other, so they run on one
# worker, one after another; the largest group is handed out first. (xdist's own
# `xdist_group` mark does nothing with pytest 9.2: it renames `item._nodeid`, which pytest
# no longer reads, so the groups go by module here.)
XDIST_GROUPS = {
    # One Wine prefix per process (tests/windows/conftest.py `wine`): booted once. The tier
    # test prepares build/windows too (scripts/windows/prepare.py): not at the same time.
    "tests/windows/test_tier.py": "wine",
    "tests/windows/test_agent_under_wine.py": "wine",
    "tests/windows/test_keyboard_hook.py": "wine",
    "tests/windows/test_win32_calls.py": "wine",
    # Builds build/windows/gameops-agent-setup.exe once (and not twice into the same path).
    "tests/windows/test_installer.py": "installer",
    # One three-replica nginx cluster at a time on a 2-core machine.
    "tests/deploy/test_failover.py": "failover",
}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleGroups(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            group = XDIST_GROUPS.get(nodeid.split("::", 1)[0])
            return group if group is not None else str(super()._split_scope(nodeid))

    return ModuleGroups(config, log)


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
