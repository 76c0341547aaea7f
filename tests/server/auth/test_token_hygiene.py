"""Tokens stay out of URLs and logs (issue 11 §2): the dashboard sends its token in the first
message, and a token in a query string never reaches a log line, uvicorn's included."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import websockets

from gameops.logging import REDACTED
from tests.support.live_server import LiveServer, production_logging


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the server logs, as `gameops serve` configures it, at INFO."""
    access = logging.getLogger("uvicorn.access")
    stream = io.StringIO()
    with production_logging("INFO", stream):
        level = access.level
        access.setLevel(logging.INFO)  # off by default; on here to show it is redacted too
        try:
            yield stream
        finally:
            access.setLevel(level)


async def test_query_string_tokens_are_redacted_from_every_log_line(
    logs: io.StringIO, live_server: LiveServer
) -> None:
    access_token = await live_server.login()
    station_id, agent_token = await live_server.create_pc_station()
    assert (await live_server.client().get("/health?token=http-secret")).status_code == 200
    async with websockets.connect(f"{live_server.ws_url}/ws/dashboard?token={access_token}") as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
    agent_url = f"{live_server.ws_url}/ws/agent/{station_id}?token={agent_token}"
    async with websockets.connect(agent_url) as ws:
        assert json.loads(await ws.recv())["type"] == "server_hello"
    lines = logs.getvalue()
    assert "/ws/dashboard?token=" + REDACTED in lines  # the line is there, the token is not
    assert f"/ws/agent/{station_id}?token=" + REDACTED in lines
    assert "/health?token=" + REDACTED in lines
    for secret in (access_token, agent_token, "http-secret"):
        assert secret not in lines
