"""The agent as a real process (``python -m gameops.agent``) against the real server:
killed with SIGKILL mid-session it resumes with the right time; stopped with SIGTERM it
exits cleanly; with a wrong token it says so on its log."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from gameops.protocol.agent_token import new_agent_token
from tests.agent.harness import wait_for_tamper, wait_until
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session


def write_config(tmp_path: Path, base_url: str, station_id: str, token: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"station: {{id: '{station_id}', name: PC-PROC}}\n"
        f"backend: {{url: '{base_url}', token: '{token}'}}\n"
        "features: {show_overlay: false}\n"
        f"system: {{control: simulated, state_file: '{tmp_path / 'state.json'}'}}\n"
        f"log: {{file: '{tmp_path / 'agent.log'}', format: json}}\n"
    )
    return path


async def spawn(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gameops.agent", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def saved(tmp_path: Path) -> dict[str, object]:
    """The session in the agent's (signed) state file, or {}."""
    try:
        body = json.loads((tmp_path / "state.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    session: dict[str, object] = body["state"]["session"] or {}
    return session


def log_events(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "agent.log").read_text().splitlines()
    return [json.loads(line)["event"] for line in lines if line.startswith("{")]


async def test_killed_mid_session_the_agent_process_resumes_with_the_right_time(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-PROC")
    config = write_config(tmp_path, live_server.base_url, station_id, token)
    agent = await spawn(config)
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: saved(tmp_path).get("session_id") == session["id"], seconds=15)

    agent.send_signal(signal.SIGKILL)
    await agent.wait()
    killed_at = time.time()
    await asyncio.sleep(2)
    agent = await spawn(config)
    # The restarted agent saves the session it resumed; its seconds left must be right.
    await wait_until(
        lambda: _saved_after(tmp_path, killed_at + 2) and "agent_connected" in log_events(tmp_path),
        seconds=15,
    )
    # Right as of the moment it was saved (a loaded machine may look at it much later).
    saved_at = datetime.fromtimestamp((tmp_path / "state.json").stat().st_mtime, UTC)
    ends = (await admin.get(f"/api/v1/sessions/{session['id']}")).json()["scheduled_end_at"]
    expected = (datetime.fromisoformat(ends) - saved_at).total_seconds()
    assert abs(float(str(saved(tmp_path)["remaining_seconds"])) - expected) <= 2
    await wait_for_tamper(admin, "agent_stopped_uncleanly")

    agent.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(agent.wait(), 15) == 0
    assert not (tmp_path / "state.json.running").exists()
    await wait_for_tamper(admin, "service_stopped")


def _saved_after(tmp_path: Path, moment: float) -> bool:
    state = tmp_path / "state.json"
    return state.exists() and state.stat().st_mtime > moment


async def test_a_wrong_token_is_logged_with_the_fix_and_retried_slowly(
    live_server: LiveServer, tmp_path: Path
) -> None:
    station_id, _ = await live_server.create_pc_station("PC-PROC-BAD")
    config = write_config(tmp_path, live_server.base_url, station_id, new_agent_token())
    agent = await spawn(config)
    await asyncio.sleep(4)
    agent.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(agent.wait(), 15) == 0
    lines = [json.loads(line) for line in (tmp_path / "agent.log").read_text().splitlines()]
    rejected = [line for line in lines if line["event"] == "agent_rejected_by_server"]
    assert rejected
    assert "backend.token" in rejected[0]["fix"]
    # The first retry may come at once (full jitter), the next no sooner than 5 s apart.
    assert len(rejected) <= 2
