"""``/metrics`` in Prometheus format, behind a scrape token (issue 11 §4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gameops.devices.errors import DeviceConnectionError, DeviceError
from gameops.protocol import Heartbeat, SessionExpired, SessionStart
from gameops.server.control.devices import DeviceHub, DeviceUnavailable
from gameops.server.metrics import Metrics
from gameops.server.stations.device_secrets import DeviceSecrets
from tests.support.agent_client import ScriptedAgent
from tests.support.feeds import DashboardFeed
from tests.support.live_server import ADMIN_USERNAME, LiveServer, server_settings
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually

SCRAPE_TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = server_settings(
        database_url,
        tmp_path / "data",
        metrics_token=SCRAPE_TOKEN,
        login_limit_per_account="2 per minute",
    )
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


def _samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(server: LiveServer) -> Samples:
    response = await server.client(SCRAPE_TOKEN).get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _samples(response.text)


async def test_metrics_need_the_scrape_token(server: LiveServer, live_server: LiveServer) -> None:
    # Without a configured token there is nothing there at all.
    unconfigured = await live_server.client(SCRAPE_TOKEN).get("/metrics")
    assert unconfigured.status_code == 404 and "detail" in unconfigured.json()
    for token in (None, "wrong-token", await server.login()):
        refused = await server.client(token).get("/metrics")
        assert refused.status_code == 401 and "scrape token" in refused.json()["detail"]
    assert "/metrics" not in (await server.client().get("/openapi.json")).text


async def test_traffic_shows_in_the_metrics(server: LiveServer) -> None:
    admin = await server.admin_client()
    station_id, token = await server.create_pc_station()
    agent = await ScriptedAgent.connect(server.ws_url, station_id, token)
    feed = await DashboardFeed.connect(server.ws_url, await server.login())
    await agent.send(Heartbeat(cpu=1, ram=1))
    session = await start_session(admin, station_id, minutes=30)
    await agent.expect(SessionStart)
    assert (await admin.get(f"/api/v1/stations/{station_id}")).status_code == 200
    anonymous = server.client()
    for _ in range(3):
        await anonymous.post(
            "/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": "wrong"}
        )

    metrics = await _scrape(server)
    assert metrics[("gameops_websocket_connections", (("kind", "agent"),))] == 1
    assert metrics[("gameops_websocket_connections", (("kind", "dashboard"),))] == 1
    messages = "gameops_websocket_messages_total"
    assert metrics[(messages, (("direction", "in"), ("kind", "agent"), ("type", "heartbeat")))]
    out = (("direction", "out"), ("kind", "agent"))
    assert metrics[(messages, (*out, ("type", "session_start")))] == 1
    assert metrics[(messages, (*out, ("type", "server_hello")))] == 1
    assert metrics[(messages, (("direction", "out"), ("kind", "dashboard"), ("type", "event")))]
    route = (("method", "GET"), ("route", "/api/v1/stations/{station_id}"), ("status", "200"))
    assert metrics[("gameops_http_request_duration_seconds_count", route)] == 1
    assert metrics[("gameops_active_sessions", ())] == 1
    assert metrics[("gameops_payments_total", (("method", "CASH"), ("status", "COMPLETED")))] == 1
    failures = "gameops_login_failures_total"
    assert metrics[(failures, (("reason", "credentials"),))] == 2
    assert metrics[(failures, (("reason", "throttled"),))] == 1
    assert metrics[("gameops_rate_limited_total", (("limit", "login-account"),))] == 1
    assert metrics[("gameops_outbox_lag_seconds", ())] >= 0
    assert ("gameops_bus_publish_failures_total", ()) in metrics

    await end_soon(server, str(session["id"]), 0.2)
    await agent.expect(SessionExpired)

    async def expiries() -> float:
        return (await _scrape(server))[("gameops_expiry_lag_seconds_count", ())]

    await eventually(expiries, lambda count: count == 1)
    lag = (await _scrape(server))[("gameops_expiry_lag_seconds_sum", ())]
    assert 0 <= lag < 5
    await feed.close()
    await agent.close()
    agents = ("gameops_websocket_connections", (("kind", "agent"),))  # until its end is written
    await eventually(lambda: _scrape(server), lambda metrics: metrics[agents] == 0)


async def test_device_call_outcomes_and_breaker_state(tmp_path: Path) -> None:
    settings = server_settings("sqlite://", tmp_path, device_retries=0, device_breaker_failures=2)
    metrics = Metrics()
    hub = DeviceHub(settings, DeviceSecrets("k" * 32), metrics)
    metrics.watch(lambda: 0.0, lambda: 0, hub.breaker_states)

    async def works() -> str:
        return "on"

    async def refuses() -> str:
        raise DeviceError("no such relay")

    async def unreachable() -> str:
        raise DeviceConnectionError("timed out")

    assert await hub.call("plug-1", works) == "on"
    with pytest.raises(DeviceError):
        await hub.call("plug-1", refuses)
    for _ in range(2):
        with pytest.raises(DeviceConnectionError):
            await hub.call("plug-2", unreachable)
    with pytest.raises(DeviceUnavailable):
        await hub.call("plug-2", works)
    samples = _samples(metrics.render().decode())
    calls = "gameops_device_calls_total"
    assert {
        outcome: samples[(calls, (("outcome", outcome),))]
        for outcome in ("ok", "refused", "unreachable", "skipped")
    } == {"ok": 1, "refused": 1, "unreachable": 2, "skipped": 1}
    state = "gameops_device_breaker_state"
    assert samples[(state, (("device", "plug-1"),))] == 0
    assert samples[(state, (("device", "plug-2"),))] == 2
    await hub.close()
