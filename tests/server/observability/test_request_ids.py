"""Each request and each agent message carries a request id through the logs (issue 11 §4):
``X-Request-ID`` in (when sane) and out, and the agent's message id for its messages."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gameops.protocol import Error, StatusChange
from gameops.server.realtime.agent_handlers import HANDLERS
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    LiveServer,
    production_logging,
    server_settings,
)
from tests.support.waiting import eventually


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    with production_logging("WARNING", stream):
        yield stream


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = server_settings(database_url, tmp_path / "data", refresh_reuse_grace_seconds=0)
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def test_request_ids_go_out_and_come_back(live_server: LiveServer) -> None:
    client = live_server.client()
    echoed = await client.get("/health", headers={"X-Request-ID": "lb-1234.abc"})
    assert echoed.headers["X-Request-ID"] == "lb-1234.abc"
    made = await client.get("/health")
    assert len(made.headers["X-Request-ID"]) == 32
    # Not a header to trust into a log line: replaced by one of ours.
    unsafe = await client.get("/health", headers={"X-Request-ID": "a b\tc" + "x" * 80})
    assert len(unsafe.headers["X-Request-ID"]) == 32


async def test_a_requests_log_lines_carry_its_id(logs: io.StringIO, server: LiveServer) -> None:
    client = server.client()
    login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    refresh_token = (await client.post("/api/v1/auth/login", json=login)).json()["refresh_token"]
    body = {"refresh_token": refresh_token}
    assert (await client.post("/api/v1/auth/refresh", json=body)).status_code == 200
    # Used again: the server logs a warning while handling this request.
    reused = await client.post(
        "/api/v1/auth/refresh", json=body, headers={"X-Request-ID": "reuse-probe-1"}
    )
    assert reused.status_code == 401
    [line] = [line for line in logs.getvalue().splitlines() if "refresh token reused" in line]
    assert "request_id=reuse-probe-1" in line


async def test_an_agent_messages_log_lines_carry_its_message_id(
    logs: io.StringIO, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> list[Any]:
        raise RuntimeError("handler bug")

    # (a sync_request is answered with others, not by its handler: sync_requests.py)
    monkeypatch.setitem(HANDLERS, StatusChange, broken)
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    message_id = await agent.send(StatusChange(status="MAINTENANCE"))
    reply = await agent.expect(Error)
    assert reply.ref_id == message_id

    async def failure_lines() -> list[str]:
        return [line for line in logs.getvalue().splitlines() if "agent message failed" in line]

    [line] = await eventually(failure_lines, bool)
    assert f"request_id={message_id}" in line and f"station_id={station_id}" in line
    await agent.close()
