"""Agent suites run the real server with short grace and heartbeat periods; overlay tests
get a virtual X display."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gameops.server.settings import Settings
from tests.agent.harness import RunningAgent, StartOnScreen, agent_config, wait_until
from tests.agent.screen import VirtualDisplay, require_display_tools
from tests.support.live_server import LiveServer
from tests.support.wake import udp_receiver  # noqa: F401 - a fixture (wake-on-LAN tests)


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


@pytest.fixture
def start_on_screen(
    live_server: LiveServer,
    tmp_path: Path,
    display: VirtualDisplay,
    monkeypatch: pytest.MonkeyPatch,
    on_screen: list[RunningAgent],
) -> StartOnScreen:
    """Starts an agent for a new PC ``name`` with its overlay on the virtual display, once it
    is connected (and, as its own process, once the overlay is too): ``(agent, station_id)``."""
    monkeypatch.setenv("DISPLAY", display.name)

    async def start(name: str, **config: Any) -> tuple[RunningAgent, str]:
        station_id, token = await live_server.create_pc_station(name)
        wanted = agent_config(live_server.base_url, station_id, token, overlay=True, **config)
        running = RunningAgent(wanted, tmp_path / f"{name}.json").start()
        on_screen.append(running)
        await wait_until(lambda: running.agent.link.connected)
        if wanted.system.overlay == "separate":
            await wait_until(
                lambda: running.agent.channel is not None and running.agent.channel.connected
            )
        return running, station_id

    return start
