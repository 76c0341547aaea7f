"""``control: linux`` outside a service: the system lock and the log-off are opt-in, so an
agent tried on a developer's own desktop never locks or ends their session, even when its
overlay cannot start (no display) and the system lock would be the fallback. A Linux venue
PC turns them on (``features.auto_lock`` / ``auto_logout``), or runs the agent as a service.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from msgspec import structs

from gameops.agent.backoff import Backoff
from gameops.agent.config import AgentConfig, FeaturesConfig
from gameops.agent.control.linux import LinuxControl
from gameops.agent.runtime import Agent, AgentParts
from gameops.protocol.agent_token import new_agent_token
from tests.agent.harness import agent_config, state_file, wait_for_tamper, wait_until
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session

LOCK_COMMANDS = (("loginctl", "lock-session"), ("xdg-screensaver", "lock"))
LOGOFF_COMMANDS = (("loginctl", "terminate-session"), ("loginctl", "terminate-user"))


class FakeInhibitor:
    def terminate(self) -> None:
        pass


class RecordedCommands:
    """Stands in for running loginctl & co.: records each command line."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str]) -> bool:
        self.lines.append(tuple(argv))
        return True

    def spawn(self, argv: Sequence[str]) -> FakeInhibitor:
        self.lines.append(tuple(argv))
        return FakeInhibitor()

    def ran(self, commands: tuple[tuple[str, str], ...]) -> bool:
        return any(line[:2] in commands for line in self.lines)


def linux_config(url: str, station_id: str, token: str, opted_in: bool | None) -> AgentConfig:
    config = agent_config(
        url, station_id, token, overlay=True, overlay_mode="in_process", control="linux"
    )
    features = FeaturesConfig(auto_lock=opted_in, auto_logout=opted_in)
    return structs.replace(config, features=features)


@pytest.mark.parametrize(
    ("opted_in", "acts"), [(None, False), (False, False), (True, True)], ids=str
)
async def test_the_system_lock_and_log_off_are_opt_in_outside_a_service(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    opted_in: bool | None,
    acts: bool,
) -> None:
    monkeypatch.setenv("DISPLAY", ":9999")  # no X server there: the overlay cannot start
    monkeypatch.setenv("XDG_SESSION_ID", "7")
    station_id, token = await live_server.create_pc_station("PC-DEV-DESK")
    config = linux_config(live_server.base_url, station_id, token, opted_in)
    assert (config.system_lock, config.system_logoff) == (acts, acts)
    commands = RecordedCommands()
    control = LinuxControl(run=commands.run, spawn=commands.spawn)  # type: ignore[arg-type]
    parts = AgentParts(
        control=control,
        state=state_file(config, tmp_path / "state.json"),
        specs={"cpu_model": "test"},
        backoff=Backoff(base=0.2, cap=1.0, rng=random.Random(3)),
        blocking_control=False,  # control calls inline: done when the state machine moves
    )
    agent = Agent(config, parts)
    task = asyncio.create_task(agent.run())
    assert await wait_for_tamper(admin, "overlay_failed") == ["overlay_failed"]
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: agent.machine.phase.value == "active")
    assert commands.ran((("systemd-inhibit", "--what=idle:sleep"),))  # the backend is live
    await end_soon(live_server, str(session["id"]), 0.2)
    # The grace (1 s in these tests), then lock and log-off: all carried out by now.
    await wait_until(lambda: agent.machine.view(parts.clock.now()).mode == "locked", seconds=5)
    assert agent.machine.session_id is None
    assert commands.ran(LOCK_COMMANDS) is acts
    assert commands.ran(LOGOFF_COMMANDS) is acts
    agent.stop()
    assert await asyncio.wait_for(task, 10) == 0


@pytest.mark.parametrize(
    ("control", "service", "opt_in"),
    [("linux", False, True), ("linux", True, False), ("windows", False, False),
     ("simulated", False, False)],
)  # fmt: skip
def test_only_linux_outside_a_service_needs_the_opt_in(
    control: str, service: bool, opt_in: bool
) -> None:
    config = agent_config(
        "ws://x", str(uuid4()), new_agent_token(), control=control, service=service
    )
    assert config.system_actions_opt_in is opt_in
    assert config.system_lock is (not opt_in)
