"""Agent suites run the real server with short grace and heartbeat periods."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameops.server.settings import Settings
from tests.support.live_server import server_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return server_settings(
        database_url, tmp_path / "data", logoff_grace_seconds=1, heartbeat_interval_seconds=1
    )
