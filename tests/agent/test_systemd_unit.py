"""deploy/systemd/gameops-agent.service: restarted whatever ends it, stopped with SIGTERM
(the agent's goodbye), and its environment is what the agent's config understands.
``systemd-analyze verify`` checks the unit's syntax where systemd is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gameops.agent.config import load_config

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "gameops-agent.service"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_agent_comes_back_whatever_ends_it_and_is_stopped_with_sigterm() -> None:
    settings = unit_settings()
    assert settings["Restart"] == ["always"]
    assert settings["StartLimitIntervalSec"] == ["0"]  # never gives up
    assert settings["KillMode"] == ["mixed"]  # SIGTERM to the agent: it says goodbye
    assert settings["ExecStart"][0].split()[0].endswith("/gameops-agent")


def test_its_environment_makes_the_agent_a_service_with_its_state_in_the_state_dir(
    tmp_path: Path,
) -> None:
    environ = dict(value.split("=", 1) for value in unit_settings()["Environment"])
    config = tmp_path / "agent.yaml"
    config.write_text(
        "station: {id: '5a4c1b55-3f3c-4a51-9d0b-8f3b8d5b9b11', name: PC-LINUX}\n"
        f"backend: {{url: 'http://127.0.0.1:8000', token: 'gat_{'a' * 43}'}}\n"
    )
    loaded = load_config(config, environ)
    assert loaded.system.service
    assert not loaded.overlay_in_process  # the overlay is a process the agent restarts
    assert loaded.system_lock and loaded.system_logoff
    state_dir = unit_settings()["StateDirectory"][0]
    assert loaded.state_path(config) == Path("/var/lib") / state_dir / "agent-state.json"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze missing (apt-get install systemd)")
    agent = Path(sys.executable).with_name("gameops-agent")
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/gameops/venv/bin/gameops-agent", str(agent)))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    problems = [line for line in result.stderr.splitlines() if UNIT.name in line]
    assert result.returncode == 0 and not problems, result.stderr
