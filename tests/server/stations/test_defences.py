"""The server's side of an agent's defences, with a real WebSocket client playing the agent:
the tamper lock (set by the agent, kept by the server, cleared by staff) and the goodbye."""

from __future__ import annotations

from typing import Any

import httpx

from gameops.protocol import (
    Goodbye,
    Heartbeat,
    HeartbeatAck,
    NoSession,
    SessionStart,
    SyncRequest,
    Tamper,
    TamperClear,
    TamperLock,
)
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import eventually


async def station(admin: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return body


async def events(admin: httpx.AsyncClient, kind: str, station_id: str) -> list[dict[str, Any]]:
    params = {"type": kind, "station_id": station_id}
    items: list[dict[str, Any]] = (await admin.get("/api/v1/events", params=params)).json()["items"]
    return items


async def test_a_tamper_lock_holds_until_staff_clear_it_and_blocks_sales(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Tamper(kind="overlay_killed", detail="4 in a minute", count=4, lock=True))
    locked = await eventually(
        lambda: station(admin, station_id), lambda s: s["tamper_locked_at"] is not None
    )
    assert locked["tamper_lock"] == {"kind": "overlay_killed", "detail": "4 in a minute"}
    [reported] = await events(admin, "AGENT_TAMPER", station_id)
    assert reported["data"]["count"] == 4 and reported["data"]["lock"] is True

    refused = await admin.post(
        "/api/v1/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
    )
    assert refused.status_code == 409 and "tamper-locked" in refused.json()["detail"]

    cleared = await admin.delete(f"/api/v1/stations/{station_id}/tamper-lock")
    assert cleared.status_code == 204, cleared.text
    message = await agent.expect(TamperClear)
    assert message.cleared_by == "admin"
    [audit] = await events(admin, "TAMPER_LOCK_CLEARED", station_id)
    assert audit["actor_id"] is not None and audit["data"]["kind"] == "overlay_killed"
    assert (await station(admin, station_id))["tamper_locked_at"] is None
    again = await admin.delete(f"/api/v1/stations/{station_id}/tamper-lock")
    assert again.status_code == 409 and again.json()["detail"] == "Station is not tamper-locked"
    await start_session(admin, station_id, minutes=30)  # sellable again
    await agent.expect(SessionStart)
    await agent.close()


async def test_an_agent_that_forgot_its_tamper_lock_is_told_again_and_a_stale_one_cleared(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Tamper(kind="overlay_frozen", detail="frozen 4 times", lock=True))
    await eventually(lambda: station(admin, station_id), lambda s: s["tamper_locked_at"])
    await agent.close()
    # Restarted with its state file deleted: it does not know; the server does.
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(SyncRequest(tamper_locked=False))
    relock = await agent.expect(TamperLock)
    assert relock.reason == "frozen 4 times"
    assert await admin.delete(f"/api/v1/stations/{station_id}/tamper-lock")
    await agent.expect(TamperClear)
    # An agent still locked (it missed the clear) is told with its next heartbeat.
    await agent.send(Heartbeat(cpu=1, ram=1, tamper_locked=True))
    await agent.expect(TamperClear)
    await agent.send(Heartbeat(cpu=1, ram=1, tamper_locked=False))
    await agent.expect(HeartbeatAck)
    await agent.close()


async def test_a_goodbye_in_paid_time_is_a_tamper_and_the_station_shows_client_stopped(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    session = await start_session(admin, station_id, minutes=30)
    await agent.expect(SessionStart)
    goodbye = Goodbye(reason="service_stop", users=["player"], idle_seconds=3, by=None)
    await agent.send(goodbye)
    await agent.close()
    stopped = await eventually(
        lambda: station(admin, station_id),
        lambda s: s["agent_stopped_at"] and not s["agent_connected"],
    )
    assert stopped["agent_stop"]["reason"] == "service_stop"
    assert stopped["agent_stop"]["in_use"] is True  # input 3 s before the stop
    assert stopped["agent_stop"]["session_id"] == session["id"]
    [event] = await events(admin, "AGENT_STOPPED", station_id)
    assert event["data"]["users"] == ["player"]
    [tamper] = await events(admin, "AGENT_TAMPER", station_id)
    assert tamper["data"]["kind"] == "service_stopped"
    assert tamper["session_id"] == session["id"]
    [gone] = await events(admin, "AGENT_DISCONNECTED", station_id)
    assert gone["data"]["reason"] == "client stopped (service_stop)"

    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)  # back
    back = await eventually(lambda: station(admin, station_id), lambda s: s["agent_connected"])
    assert back["agent_stopped_at"] is None and back["agent_stop"] is None
    await agent.close()


async def test_a_shutdown_with_no_session_is_recorded_but_no_tamper(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(SyncRequest())
    await agent.expect(NoSession)
    await agent.send(Goodbye(reason="shutdown", idle_seconds=900))
    await agent.close()
    stopped = await eventually(lambda: station(admin, station_id), lambda s: s["agent_stopped_at"])
    assert stopped["agent_stop"]["in_use"] is False
    assert await events(admin, "AGENT_TAMPER", station_id) == []
