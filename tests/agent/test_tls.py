"""The agent over wss:// against the real server serving TLS with a self-signed certificate
(`gameops tls self-signed`): pinned, it connects; trusting only the system's authorities,
it refuses the server and says why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from gameops.server.settings import Settings
from gameops.server.tls import write_self_signed
from tests.agent.harness import RunningAgent, agent_config, captured_events, wait_until
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    cert, key = write_self_signed(tmp_path / "tls", ["127.0.0.1", "localhost"])
    return settings.model_copy(update={"tls_certfile": cert, "tls_keyfile": key})


async def test_agent_connects_over_wss_to_the_pinned_server(
    live_server: LiveServer, admin: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    assert live_server.base_url.startswith("https://")
    station_id, token = await live_server.create_pc_station("PC-TLS")
    config = agent_config(live_server.base_url, station_id, token, ca_file=settings.tls_certfile)
    assert config.ws_url.startswith("wss://")
    running = RunningAgent(config, tmp_path / "state.json").start()
    await wait_until(lambda: running.agent.link.connected)
    await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    await running.stop()


async def test_an_agent_that_does_not_trust_the_certificate_refuses_the_server(
    live_server: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    station_id, token = await live_server.create_pc_station("PC-UNTRUSTED")
    config = agent_config(live_server.base_url, station_id, token)  # the system's CAs only
    running = RunningAgent(config, tmp_path / "state.json")
    with captured_events(caplog) as events:
        running.start()
        await asyncio.sleep(1.5)
        assert not running.agent.link.connected
        await running.stop()
    failures = [e for e in events if e["event"] == "agent_connect_failed"]
    assert failures
    assert "CERTIFICATE_VERIFY_FAILED" in failures[0]["error"]
    assert running.mode() == "locked"
