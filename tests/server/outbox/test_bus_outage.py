"""Redis unreachable: requests still succeed once and only once, and everything they
announced reaches agents and dashboards, in order, when Redis is back (issue 11 §1)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gameops.protocol import SessionExtended, SessionStart
from tests.support.agent_client import ScriptedAgent
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.feeds import DashboardFeed
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import create_customer
from tests.support.proxy import TcpProxy
from tests.support.waiting import eventually

API = "/api/v1"


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    proxy = TcpProxy(REDIS_HOST, REDIS_PORT)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def server(
    database_url: str, tmp_path: Path, redis_proxy: TcpProxy
) -> AsyncIterator[LiveServer]:
    settings = server_settings(
        database_url,
        tmp_path / "data",
        device_key=uuid.uuid4().hex,  # replicas must share their keys
        redis_url=redis_proxy.url("redis", "/0"),
        redis_prefix=f"test-{uuid.uuid4().hex[:8]}:",
        # No heartbeat comes to the rescue: commands must arrive by themselves.
        heartbeat_interval_seconds=3600,
    )
    live = LiveServer(settings)
    await live.start()
    yield live
    await live.close()


async def _health(client: httpx.AsyncClient) -> dict[str, object]:
    body: dict[str, object] = (await client.get("/health")).json()
    return body


async def test_requests_during_a_redis_outage_succeed_once_and_are_announced_after(
    server: LiveServer, redis_proxy: TcpProxy
) -> None:
    admin = await server.admin_client()
    station_id, token = await server.create_pc_station()
    agent = await ScriptedAgent.connect(server.ws_url, station_id, token)
    feed = await DashboardFeed.connect(server.ws_url, await server.login())
    customer = (await create_customer(admin))["id"]

    await redis_proxy.cut()
    topup = await admin.post(
        f"{API}/users/{customer}/topups", json={"amount": 1000, "method": "CASH"}
    )
    started = await admin.post(
        f"{API}/sessions/start",
        json={"station_id": station_id, "duration_minutes": 60, "payment_method": "CASH"},
    )
    assert topup.status_code == 201, topup.text
    assert started.status_code == 201, started.text
    session_id = started.json()["id"]
    extended = await admin.put(
        f"{API}/sessions/{session_id}/extend",
        json={"additional_minutes": 30, "payment_method": "CASH"},
    )
    assert extended.status_code == 200, extended.text
    health = await _health(server.client())
    assert str(health["bus"]).startswith("error")
    assert health["outbox"]["waiting"] > 0  # type: ignore[index]

    redis_proxy.restore()
    first = await agent.expect(SessionStart, timeout=15)
    then = await agent.expect(SessionExtended, timeout=5)
    assert str(first.id) == session_id and str(then.id) == session_id
    balance = (await admin.get(f"{API}/customers/{customer}")).json()["balance"]
    assert balance == 1000  # credited once: the operator had no reason to retry

    # Every event recorded since the feed connected reaches it, in order (read again on each
    # look: the agent's ack of the session records one more meanwhile).
    async def seen_and_recorded() -> tuple[list[int], list[int]]:
        since = {"after_id": feed.last_event_id, "order": "asc"}
        recorded = (await admin.get(f"{API}/events", params=since)).json()["items"]
        return await _ids(feed), [event["id"] for event in recorded]

    await eventually(seen_and_recorded, lambda both: both[0] == both[1], 15)
    assert "BALANCE_TOPUP" in {e["type"] for e in feed.events}
    drained = await eventually(
        lambda: _health(server.client()),
        lambda h: h["outbox"]["waiting"] == 0 and h["status"] == "healthy",
        10,  # type: ignore[index]
    )
    assert drained["status"] == "healthy"
    await feed.close()
    await agent.close()


async def _ids(feed: DashboardFeed) -> list[int]:
    return [event_id for event_id in feed.ids() if event_id > feed.last_event_id]
