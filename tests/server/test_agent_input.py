"""What a hostile agent can send, over a real socket (issue 11 §3): oversized and deeply
nested frames are refused with an ``error`` and nothing is stored."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from gameops.protocol import Error, Heartbeat, HeartbeatAck, Tamper, encode
from gameops.server.settings import Settings
from tests.support.agent_client import ScriptedAgent
from tests.support.feeds import DashboardFeed
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import events_of
from tests.support.waiting import eventually

WINDOW = 1.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return server_settings(
        database_url, tmp_path / "data", tamper_window_seconds=WINDOW, tamper_burst=1
    )


async def _station(admin: httpx.AsyncClient, station_id: str) -> dict[str, object]:
    body: dict[str, object] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return body


def _hello(specs: object) -> str:
    data = {"agent_version": "1.0", "os": "TestOS", "specs": specs}
    return json.dumps({"type": "agent_hello", "data": data})


async def test_ten_megabyte_specs_are_refused_and_not_stored(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.connection.send(_hello({"blob": "x" * 10_000_000}))
    error = await agent.expect(Error, timeout=15)
    assert error.detail.startswith("frame too large")
    await agent.connection.send(_hello({"a": {"b": {"c": 1}}}))  # too deep
    error = await agent.expect(Error)
    assert error.detail.startswith("invalid agent_hello: specs")
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)  # the connection stays; nothing was stored
    assert (await _station(admin, station_id))["specs"] == {}
    await agent.connection.send(_hello({"cpu_model": "Ryzen", "macs": ["aa:bb:cc:dd:ee:ff"]}))
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)
    assert (await _station(admin, station_id))["specs"]["cpu_model"] == "Ryzen"  # type: ignore[index]
    floor = (await admin.get("/api/v1/floor")).text
    assert len(floor) < 10_000
    await agent.close()


async def test_json_nested_five_thousand_deep_is_an_error_reply(
    live_server: LiveServer,
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    deep = "[" * 5000 + "]" * 5000
    nested_specs = _hello({"a": 1}).replace('"a": 1', '"a": ' + '{"b": ' * 5000 + "1" + "}" * 5000)
    for frame in (
        '{"type": "heartbeat", "data": ' + deep + "}",
        '{"type": "heartbeat", "data": {"cpu": 1, "ram": 1, "extra": ' + deep + "}}",
        nested_specs,
    ):
        await agent.connection.send(frame)
        error = await agent.expect(Error)
        assert "nested too deeply" in error.detail, error.detail
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)
    await agent.close()


async def test_ten_thousand_tamper_reports_in_five_seconds_are_a_few_counted_events(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    feed = await DashboardFeed.connect(live_server.ws_url, await live_server.login())
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    frame = encode(Tamper(kind="overlay_killed", detail="taskkill /f"))
    started = time.monotonic()
    for _ in range(10_000):
        await agent.connection.send(frame)
    sending = time.monotonic() - started
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck, timeout=30)  # the server has read all 10,000

    def counted(events: list[dict[str, object]]) -> int:
        mine = [e for e in events if e.get("station_id") == station_id]
        return sum(int(e["data"].get("count", 1)) for e in mine)  # type: ignore[attr-defined]

    tampers = await eventually(
        lambda: events_of(admin, "AGENT_TAMPER"), lambda found: counted(found) == 10_000, 15
    )
    # One at once, then one per window while the flood lasts, then the rest.
    assert len(tampers) <= sending / WINDOW + 3, (len(tampers), sending)
    assert tampers[-1]["data"] == {"kind": "overlay_killed", "detail": "taskkill /f"}
    pushed = await eventually(lambda: _events(feed), lambda events: counted(events) == 10_000, 15)
    assert len(pushed) == len(tampers)
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)  # the connection is still served
    await agent.close()
    await feed.close()


async def test_reports_held_back_are_recorded_when_the_agent_disconnects(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    for _ in range(5):
        await agent.send(Tamper(kind="clock_changed", detail="-1 h"))
    await agent.close()
    tampers = await eventually(
        lambda: events_of(admin, "AGENT_TAMPER"),
        lambda found: sum(int(e["data"].get("count", 1)) for e in found) == 5,
    )
    assert [e["data"].get("count", 1) for e in tampers] == [4, 1]  # newest first


async def _events(feed: DashboardFeed) -> list[dict[str, object]]:
    return [e for e in feed.events if e.get("type") == "AGENT_TAMPER"]
