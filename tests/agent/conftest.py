"""Agent suites run the real server with short grace and heartbeat periods."""

from __future__ import annotations

import pytest

from gameops.server.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite-wide server settings, with a 1 s log-off grace and heartbeat."""
    return settings.model_copy(update={"logoff_grace_seconds": 1, "heartbeat_interval_seconds": 1})
