"""End to end: REST on a real uvicorn, a real WebSocket client playing the agent."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from gameops.protocol import (
    Heartbeat,
    HeartbeatAck,
    NoSession,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionStart,
    SyncRequest,
    SyncResponse,
    utc_now,
)
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, set_scheduled_end, start_session
from tests.support.waiting import eventually


async def _station(admin: httpx.AsyncClient, station_id: str) -> dict[str, object]:
    response = await admin.get(f"/api/v1/stations/{station_id}")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_start_extend_stop_reach_the_agent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station("PC-01", hourly_rate=600)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    assert (await _station(admin, station_id))["status"] == "ONLINE"

    session = await start_session(admin, station_id, minutes=30)
    assert session["amount_total"] == 300 and session["agent_connected"] is True
    started = await agent.expect(SessionStart)
    assert str(started.id) == session["id"]
    assert started.scheduled_end_at == datetime.fromisoformat(str(session["scheduled_end_at"]))
    assert (await _station(admin, station_id))["status"] == "IN_SESSION"

    extended = await admin.put(
        f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 15}
    )
    assert extended.status_code == 200, extended.text
    message = await agent.expect(SessionExtended)
    assert message.extended_minutes == 15
    assert message.new_end_time == started.scheduled_end_at + timedelta(minutes=15)
    assert extended.json()["payment"]["amount"] == 150

    stopped = await admin.delete(f"/api/v1/sessions/{session['id']}")
    assert stopped.status_code == 200 and stopped.json()["status"] == "STOPPED"
    end = await agent.expect(SessionEnd)
    assert end.action == "lock" and str(end.id) == session["id"]
    assert (await _station(admin, station_id))["status"] == "ONLINE"
    await agent.close()


async def test_expiry_reaches_agent_on_time(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    session = await start_session(admin, station_id)
    await agent.expect(SessionStart)

    end_at = await end_soon(live_server, str(session["id"]), 0.5)
    expired = await agent.expect(SessionExpired, timeout=5)
    # Delivery is bounded loosely: CI runs three test workers on two cores, and the
    # scheduler alone can hold this process for longer than the timer's own error.
    delivered_after = (utc_now() - end_at).total_seconds()
    assert 0 <= delivered_after < 2, f"reached the agent {delivered_after:.3f} s after its end"
    assert expired.action == "logoff"
    assert expired.grace_seconds == live_server.settings.logoff_grace_seconds

    row = (await admin.get(f"/api/v1/sessions/{session['id']}")).json()
    assert row["status"] == "EXPIRED" and row["end_reason"] == "expired"
    decided_after = (datetime.fromisoformat(row["actual_end_at"]) - end_at).total_seconds()
    assert 0 <= decided_after < 0.5, f"the server expired it {decided_after:.3f} s after its end"
    events = (await admin.get("/api/v1/events", params={"session_id": session["id"]})).json()
    assert [e["type"] for e in events["items"]].count("SESSION_EXPIRED") == 1
    await agent.close()


async def test_offline_pc_can_be_sold_and_syncs_on_connect(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    session = await start_session(admin, station_id, minutes=45)
    assert session["agent_connected"] is False
    assert session["warnings"], "staff must be told the agent is offline"

    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(SyncRequest())
    sync = await agent.expect(SyncResponse)
    assert str(sync.session.id) == session["id"]
    assert sync.session.duration_minutes == 45
    assert abs((sync.server_time - utc_now()).total_seconds()) < 2
    await agent.close()


async def test_agent_reconnecting_after_expiry_is_told_to_enforce(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    session = await start_session(admin, station_id)
    await agent.expect(SessionStart)
    await agent.close()  # the network drops...

    await end_soon(live_server, str(session["id"]), 0.2)  # ...and the session runs out meanwhile
    await eventually(
        lambda: admin.get(f"/api/v1/sessions/{session['id']}"),
        lambda answer: answer.json()["status"] != "ACTIVE",
    )

    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(SyncRequest(last_known_session_id=session["id"]))
    expired = await agent.expect(SessionExpired)
    assert str(expired.id) == session["id"] and expired.action == "logoff"

    await agent.send(SyncRequest())
    await agent.expect(NoSession)
    await agent.close()


async def test_heartbeat_is_acked_and_corrects_a_lost_command(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    session = await start_session(admin, station_id)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    # The agent believes it has no session (it never got session_start): the server says so.
    await agent.send(Heartbeat(cpu=12.5, ram=40.0))
    await agent.expect(HeartbeatAck)
    correction = await agent.expect(SyncResponse)
    assert str(correction.session.id) == session["id"]
    # Written with the next batch of heartbeats, a flush later.
    station = await eventually(
        lambda: _station(admin, station_id), lambda s: s["metrics"].get("cpu") == 12.5
    )
    assert station["last_seen_at"] is not None
    await agent.close()


async def test_restart_after_session_end_expires_it_at_startup(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    session = await start_session(admin, station_id)
    await live_server.stop()
    await set_scheduled_end(live_server.settings.database_url, str(session["id"]), utc_now())
    await asyncio.sleep(0.2)

    started_at = utc_now()
    await live_server.start()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    admin = await live_server.admin_client()

    async def row() -> dict[str, Any]:
        found: dict[str, Any] = (await admin.get(f"/api/v1/sessions/{session['id']}")).json()
        return found

    expired = await eventually(row, lambda r: r["status"] == "EXPIRED", timeout=10)
    # By the sweep at start-up, not by a periodic one a sweep interval later.
    took = (datetime.fromisoformat(expired["actual_end_at"]) - started_at).total_seconds()
    assert took < live_server.settings.expiry_sweep_seconds
    await agent.close()
