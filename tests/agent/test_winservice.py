"""The Windows service host's part that runs anywhere: the agent on the host's thread,
stopped from another thread (the service control handler's) with the reason the service
control stands for, against the real server. The pywin32 part runs under Wine in
``tests/windows/test_installer.py``."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from gameops.agent.winservice import (
    SERVICE_CONTROL_PRESHUTDOWN,
    SERVICE_CONTROL_SHUTDOWN,
    SERVICE_CONTROL_STOP,
    AgentHost,
    service_command,
)
from tests.agent.agentproc import events, station
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually

SERVICE_CONTROL_INTERROGATE = 4


def write_config(tmp_path: Path, base_url: str, station_id: str, token: str) -> Path:
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"station: {{id: '{station_id}', name: PC-SERVICE}}\n"
        f"backend: {{url: '{base_url}', token: '{token}'}}\n"
        "features: {show_overlay: false}\n"
        f"system: {{control: simulated, state_file: '{tmp_path / 'state.json'}'}}\n"
        f"log: {{file: '{tmp_path / 'agent.log'}'}}\n"
    )
    return config


@pytest.mark.parametrize(
    ("control", "reason"),
    [
        (SERVICE_CONTROL_STOP, "service_stop"),
        (SERVICE_CONTROL_SHUTDOWN, "shutdown"),
        (SERVICE_CONTROL_PRESHUTDOWN, "shutdown"),
    ],
)
async def test_a_service_control_stops_the_agent_with_its_reason(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path, control: int, reason: str
) -> None:
    station_id, token = await live_server.create_pc_station("PC-SERVICE")
    host = AgentHost(write_config(tmp_path, live_server.base_url, station_id, token))
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(host.run()), daemon=True)
    thread.start()
    await eventually(lambda: station(admin, station_id), lambda s: s["agent_connected"], 15)

    assert not host.stop_for_control(SERVICE_CONTROL_INTERROGATE)  # answered, not a stop
    assert host.stop_for_control(control)

    stopped = await eventually(
        lambda: station(admin, station_id),
        lambda s: s["agent_stop"] is not None and not s["agent_connected"],
    )
    assert stopped["agent_stop"]["reason"] == reason
    [event] = await events(admin, "AGENT_STOPPED", station_id)
    assert event["data"]["reason"] == reason
    await eventually(lambda: _done(thread), bool, 10)
    assert codes == [0]


async def test_a_stop_before_the_agent_is_up_is_kept_until_it_is(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The service manager may send stop while the agent is still starting."""
    station_id, token = await live_server.create_pc_station("PC-SERVICE")
    host = AgentHost(write_config(tmp_path, live_server.base_url, station_id, token))
    host.stop("shutdown")
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(host.run()), daemon=True)
    thread.start()
    await eventually(lambda: _done(thread), bool, 15)
    assert codes == [0]
    assert host.started.is_set()


def test_a_config_error_is_the_exit_code_the_service_fails_with(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("station: {name: PC}\n")
    assert AgentHost(config).run() == 2


def test_the_service_runs_this_interpreter_on_the_module(tmp_path: Path) -> None:
    command = service_command(tmp_path / "agent.yaml")
    assert command.startswith('"')
    assert " -m gameops.agent.winservice service --config " in command
    assert command.endswith(f'"{tmp_path / "agent.yaml"}"')


async def _done(thread: threading.Thread) -> bool:
    return not thread.is_alive()
