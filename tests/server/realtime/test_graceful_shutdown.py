"""Graceful shutdown (issue 14): the server stops accepting, tells each agent to
``reconnect`` after a jittered delay, closes it with 1012, and the agents come back."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from gameops.agent.backoff import Backoff
from gameops.agent.link import AgentLink, LinkHooks, LinkTuning
from gameops.protocol import AgentHello, CloseCode, Heartbeat, Reconnect, SyncRequest
from gameops.server.realtime.admission import UNMEASURED_RECONNECTS_PER_SECOND as UNMEASURED
from gameops.server.realtime.hub import RECONNECT_SPREAD_LIMIT, reconnect_spread
from tests.agent.harness import captured_events
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, server_settings
from tests.support.waiting import eventually


def test_the_reconnect_spread_grows_with_the_agents_within_limits() -> None:
    assert reconnect_spread(1, 250) == 1.0  # a few agents: still not all in the same second
    assert reconnect_spread(2500, 250) == 10.0
    assert reconnect_spread(2500, 1000) == 2.5  # a server that measured it takes more
    assert reconnect_spread(100_000, 250) == RECONNECT_SPREAD_LIMIT  # nobody waits a minute


async def test_stopping_stops_accepting_then_tells_each_agent_its_own_delay(
    live_server: LiveServer,
) -> None:
    agents = []
    for _ in range(5):
        station_id, token = await live_server.create_pc_station()
        agents.append(await ScriptedAgent.connect(live_server.ws_url, station_id, token))
    stopping = asyncio.create_task(live_server.stop())
    delays = []
    for agent in agents:
        told = await agent.expect(Reconnect)
        delays.append(told.after_seconds)
        with pytest.raises(ConnectionClosed) as closed:
            await agent.next()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CloseCode.SERVICE_RESTART
    # Told after the server stopped accepting: a new connection is refused.
    with pytest.raises(ConnectionRefusedError):
        await websockets.connect(f"{live_server.ws_url}/ws/agent/{uuid.uuid4()}")
    await stopping
    assert all(0 <= delay <= reconnect_spread(5, UNMEASURED) for delay in delays)
    assert len(set(delays)) > 1  # jittered, not one second for all


async def test_real_agents_are_sent_away_and_come_back_after_a_restart(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = LiveServer(server_settings(database_url, tmp_path / "data"))
    await server.start()
    links: list[AgentLink] = []
    runs: list[asyncio.Task[Any]] = []
    try:
        admin = await server.admin_client()
        stations = [await server.create_pc_station() for _ in range(4)]
        for station_id, token in stations:
            link = _agent_link(f"{server.ws_url}/ws/agent/{station_id}", token)
            links.append(link)
            runs.append(asyncio.create_task(link.run()))
        await eventually(_online_count(admin), lambda online: online == 4, timeout=15)

        with captured_events(caplog) as logs:
            await server.stop()
            await eventually(_async(lambda: not any(link.connected for link in links)), bool)
        # Each agent waits the delay the server gave it (its own spread is 0 here); one
        # whose delay ran out while the server was down retried as after any lost link.
        scheduled = [e for e in logs if e["event"] == "agent_reconnect_scheduled"]
        told = [e for e in scheduled if e["after"] == "reconnect"]
        assert len(told) == 4
        waits = [e["in_seconds"] for e in told]
        assert all(0 <= wait <= reconnect_spread(4, UNMEASURED) for wait in waits)
        assert len(set(waits)) > 1

        await server.start()
        admin = await server.admin_client()
        await eventually(_async(lambda: all(link.connections == 2 for link in links)), bool, 20)
        await eventually(_online_count(admin), lambda online: online == 4, timeout=15)
        # Sent away, not lost: no station went offline (none flickered on the dashboards).
        left = await admin.get("/api/v1/events", params={"type": "AGENT_DISCONNECTED"})
        assert left.json()["items"] == []
    finally:
        for link in links:
            link.stop()
        await asyncio.gather(*runs, return_exceptions=True)
        await server.close()


def _agent_link(url: str, token: str) -> AgentLink:
    hooks = LinkHooks(
        hello=lambda: AgentHello(agent_version="test", os="linux"),
        sync_request=lambda: SyncRequest(),
        heartbeat=lambda: Heartbeat(cpu=1.0, ram=2.0),
        on_message=lambda message_id, payload: None,
    )
    # Failed attempts (the server still starting) retry fast; no spread of the agent's own.
    backoff = Backoff(base=0.1, cap=0.5, rng=random.Random(3))
    return AgentLink(url, token, hooks, backoff, LinkTuning(restart_spread=0))


def _online_count(admin: httpx.AsyncClient) -> Any:
    async def count() -> int:
        page = await admin.get("/api/v1/stations", params={"per_page": 1, "status": "ONLINE"})
        return int(page.json()["meta"]["total"])

    return count


def _async(condition: Any) -> Any:
    async def probe() -> bool:
        return bool(condition())

    return probe
