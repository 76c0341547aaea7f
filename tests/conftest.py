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


# The longest tests, longest first (seconds on the quiet 2-core machine, --durations): handed
# out right after the groups above. A parallel run ends when the last long test to start
# does; in file order these came near the end (tests/web/test_screens finished the run).
SLOW_FIRST = [
    "tests/server/test_schemathesis.py",  # 57
    "tests/deploy/test_play_replicas.py",  # 22, a cluster of replicas
    "tests/web/test_screens.py",  # 2 x 21
    "tests/server/outbox/test_chaos.py",  # 3 x 18
    "tests/server/sessions/test_expiry_burst.py",
    "tests/server/realtime/test_heartbeats.py"
    "::test_a_beating_agent_is_never_swept_offline_while_its_beats_wait",
    "tests/agent/test_attacks.py"
    "::test_an_outage_across_the_end_does_not_log_off_a_customer_who_paid_for_more",
    "tests/sim/test_demo.py::test_the_temporary_data_directory_is_removed_on_exit",
    "tests/web/test_full_shift.py",
    "tests/server/reservations/test_overlap_constraint.py",
]


def slow_rank(nodeid: str) -> int:
    """The place of the test in SLOW_FIRST; after them all when it is not there."""
    for rank, slow in enumerate(SLOW_FIRST):
        if nodeid == slow or nodeid.startswith((f"{slow}::", f"{slow}[")):
            return rank
    return len(SLOW_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; each one sorts alike
        items.sort(key=lambda item: slow_rank(item.nodeid))  # stable: file order otherwise


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
def first_start() -> bool:
    """False: the test's database already holds the admin its server is configured with
    (see tests/support/databases.py). A test of a server's first start on an empty database
    parametrizes this to True."""
    return False


@pytest.fixture
def database_url(
    backend: str, first_start: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    if backend == "sqlite":
        yield request.getfixturevalue("sqlite_templates").fresh(tmp_path, first_start)
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.fresh(first_start)
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
