"""What a hostile agent can send, over a real socket (issue 11 §3): oversized and deeply
nested frames are refused with an ``error`` and nothing is stored."""

from __future__ import annotations

import json

import httpx

from gameops.protocol import Error, Heartbeat, HeartbeatAck
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer


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
