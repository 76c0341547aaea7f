"""Agent suites run the real server with short grace and heartbeat periods; overlay tests
get a virtual X display."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gameops.server.settings import Settings
from tests.agent.harness import RunningAgent
from tests.agent.screen import VirtualDisplay, require_display_tools


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite-wide server settings, with a 1 s log-off grace and heartbeat."""
    return settings.model_copy(update={"logoff_grace_seconds": 1, "heartbeat_interval_seconds": 1})


@pytest.fixture(scope="module")
def display() -> Iterator[VirtualDisplay]:
    require_display_tools()
    virtual = VirtualDisplay()
    yield virtual
    virtual.close()


@pytest.fixture
async def on_screen() -> AsyncIterator[list[RunningAgent]]:
    """Agents showing an overlay, stopped before the display closes even when a test fails:
    Xlib ends a process whose X server goes away, and an in-process overlay's is pytest."""
    agents: list[RunningAgent] = []
    yield agents
    for agent in agents:
        await agent.stop()
