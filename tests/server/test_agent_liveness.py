"""Liveness on the agent socket, with short clocks so timeouts take a second."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from gameops.protocol import CloseCode
from gameops.server.settings import Settings
from tests.server.test_agent_socket import _closed_with, _station
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, server_settings
from tests.support.waiting import eventually


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Short clocks so timeouts can be tested in a second, not in tens of seconds.
    return server_settings(
        database_url,
        tmp_path / "data",
        agent_auth_timeout_seconds=0.5,
        heartbeat_interval_seconds=1,
        heartbeat_misses_allowed=1,
    )


async def test_no_auth_in_time_closes_4408(live_server: LiveServer) -> None:
    station_id, _ = await live_server.create_pc_station()
    code, reason = await _closed_with(f"{live_server.ws_url}/ws/agent/{station_id}")
    assert code == CloseCode.AUTH_TIMEOUT and reason == "no authentication within 0.5 s"


async def test_silent_agent_goes_offline(live_server: LiveServer, admin: httpx.AsyncClient) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    assert (await _station(admin, station_id))["agent_connected"] is True
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await agent.next(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.HEARTBEAT_TIMEOUT
    # The server records the disconnect just after closing: wait for it, do not race it.
    await eventually(
        lambda: _station(admin, station_id),
        lambda station: station["status"] == "OFFLINE" and station["agent_connected"] is False,
    )
    events = (await admin.get("/api/v1/events", params={"type": "AGENT_DISCONNECTED"})).json()
    assert "no heartbeat" in events["items"][0]["data"]["reason"]


async def test_rows_left_connected_by_a_lost_server_are_swept(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from gameops.protocol import utc_now
    from gameops.server.db.models import Station

    station_id, _ = await live_server.create_pc_station()
    # As a server that died mid-connection would leave it: connected, last heard long ago.
    async with live_server.services.database.transaction() as db:
        await db.execute(
            update(Station)
            .where(Station.id == uuid.UUID(station_id))
            .values(
                agent_connected=True,
                agent_connection_id=uuid.uuid4(),
                status="ONLINE",
                last_seen_at=utc_now() - timedelta(minutes=5),
            )
        )
    station = await eventually(
        lambda: _station(admin, station_id), lambda s: s["agent_connected"] is False
    )
    assert station["status"] == "OFFLINE"
