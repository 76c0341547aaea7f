"""The agent WebSocket's rules: auth, close codes, bad frames, replacement, liveness."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from gameops.protocol import (
    Auth,
    CloseCode,
    Error,
    Heartbeat,
    HeartbeatAck,
    Reconnect,
    Replaced,
    ServerHello,
    SessionStart,
    StatusChange,
    Tamper,
    encode,
)
from gameops.server.bus import AGENT_COMMANDS, PRESENCE
from tests.support.agent_client import ScriptedAgent
from tests.support.agent_sockets import (
    HeldAfterWrite,
    agents_served,
    first_answer,
    never_replaced,
    overtaken_handshake,
)
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import eventually


async def _closed_with(
    url: str, headers: dict[str, str] | None = None, send: str | None = None
) -> tuple[int, str]:
    async with websockets.connect(url, additional_headers=headers or {}) as ws:
        if send is not None:
            await ws.send(send)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 15)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _station(admin: httpx.AsyncClient, station_id: str) -> dict[str, object]:
    body: dict[str, object] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return body


async def test_bad_credentials_close_with_clear_codes(live_server: LiveServer) -> None:
    station_id, token = await live_server.create_pc_station()
    other_id, _ = await live_server.create_pc_station()
    base = live_server.ws_url + "/ws/agent/"

    code, reason = await _closed_with(base + station_id, {"Authorization": "Bearer gat_wrong"})
    assert (code, reason) == (CloseCode.AUTH_FAILED, "invalid agent token for this station")
    # A valid token, but another station's.
    code, _ = await _closed_with(base + other_id, {"Authorization": f"Bearer {token}"})
    assert code == CloseCode.AUTH_FAILED
    code, reason = await _closed_with(
        base + str(uuid.uuid4()), {"Authorization": f"Bearer {token}"}
    )
    assert (code, reason) == (CloseCode.UNKNOWN_STATION, "unknown station")
    code, _ = await _closed_with(base + "not-a-uuid", {"Authorization": f"Bearer {token}"})
    assert code == CloseCode.UNKNOWN_STATION
    code, reason = await _closed_with(base + station_id, send='{"type": "heartbeat"}')
    assert code == CloseCode.AUTH_FAILED and "auth" in reason


async def test_query_token_and_auth_message_both_work(live_server: LiveServer) -> None:
    station_id, token = await live_server.create_pc_station()
    url = f"{live_server.ws_url}/ws/agent/{station_id}"
    async with websockets.connect(f"{url}?token={token}") as ws:
        assert json.loads(await ws.recv())["type"] == ServerHello.TYPE
    async with websockets.connect(url) as ws:
        await ws.send(encode(Auth(token=token)))
        assert json.loads(await ws.recv())["type"] == ServerHello.TYPE


async def test_malformed_and_unknown_messages_get_errors_and_the_connection_stays(
    live_server: LiveServer,
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    for frame, expected in [
        ("this is not json", "malformed envelope"),
        ('{"type": "teleport", "data": {}}', "unknown message type 'teleport'"),
        ('{"type": "heartbeat", "data": {"cpu": 500, "ram": 1}}', "invalid heartbeat: cpu"),
        ('{"type": "status_change", "data": {"status": "IN_SESSION"}}', "invalid status_change"),
        ("[1, 2, 3]", "malformed envelope"),
    ]:
        await agent.connection.send(frame)
        error = await agent.expect(Error)
        assert expected in error.detail, (frame, error.detail)
    await agent.connection.send(b'{"type": "heartbeat", "data": {"cpu": 1, "ram": 2}}')
    await agent.expect(HeartbeatAck)
    await agent.close()


async def test_second_connection_replaces_the_first(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    first = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    second = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await first.expect(Replaced)
    with pytest.raises(ConnectionClosed) as closed:
        await first.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.REPLACED
    # Once the replaced connection's handler is done (its exit recorded)...
    await eventually(lambda: agents_served(live_server), lambda served: served == 1)
    # ...the station is still online: that exit must not mark it offline.
    assert (await _station(admin, station_id))["agent_connected"] is True
    session = await start_session(admin, station_id)
    assert str((await second.expect(SessionStart)).id) == session["id"]
    await second.close()


async def test_reissued_token_disconnects_the_old_agent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    assert (await admin.post(f"/api/v1/stations/{station_id}/agent-token")).status_code == 201
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await agent.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.AUTH_FAILED
    code, _ = await _closed_with(
        f"{live_server.ws_url}/ws/agent/{station_id}", {"Authorization": f"Bearer {token}"}
    )
    assert code == CloseCode.AUTH_FAILED
    assert (await admin.delete(f"/api/v1/stations/{station_id}/agent-token")).status_code == 204
    assert (await admin.delete(f"/api/v1/stations/{station_id}/agent-token")).status_code == 404


async def test_agent_status_change_and_tamper_are_recorded(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(StatusChange(status="MAINTENANCE"))
    await agent.send(Tamper(kind="overlay_killed", detail="taskkill"))
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)  # handled in order: the two before are done
    assert (await _station(admin, station_id))["status"] == "MAINTENANCE"
    tamper = (await admin.get("/api/v1/events", params={"type": "AGENT_TAMPER"})).json()
    assert tamper["items"][0]["data"] == {"kind": "overlay_killed", "detail": "taskkill"}

    await agent.send(StatusChange(status="ONLINE"))
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)
    assert (await _station(admin, station_id))["status"] == "ONLINE"
    await start_session(admin, station_id)
    await agent.send(StatusChange(status="MAINTENANCE"))
    refused = await agent.expect(Error)
    assert "active session" in refused.detail
    await agent.close()


async def test_commands_are_recorded_and_acks_stored(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    from sqlalchemy import select

    from gameops.server.db.models import AgentCommand

    station_id, token = await live_server.create_pc_station()
    acking = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await start_session(admin, station_id)
    await acking.expect(SessionStart)

    async def recorded() -> list[tuple[str, bool]]:
        async with live_server.services.database.sessionmaker() as db:
            commands = (await db.scalars(select(AgentCommand))).all()
        return [(c.type, c.acked_at is not None) for c in commands]

    # Acks are written in batches, once a second.
    assert await eventually(recorded, lambda rows: rows == [("session_start", True)])


@pytest.fixture
async def dashboard_token(live_server: LiveServer) -> str:
    return await live_server.login()


async def test_dashboard_feed_streams_events_live(
    live_server: LiveServer, admin: httpx.AsyncClient, dashboard_token: str
) -> None:
    url = f"{live_server.ws_url}/ws/dashboard?token={dashboard_token}"
    async with websockets.connect(url) as feed:
        hello = json.loads(await feed.recv())
        assert hello["type"] == "hello" and hello["last_event_id"] > 0
        station_id, token = await live_server.create_pc_station("PC-LIVE")
        seen = []
        while "AGENT_TOKEN_ISSUED" not in seen:
            message = json.loads(await asyncio.wait_for(feed.recv(), 5))
            seen.append(message["event"]["type"])
            assert message["event"]["id"] > hello["last_event_id"]
        assert seen[0] == "STATION_CREATED"
        agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
        kinds = set()
        while "AGENT_CONNECTED" not in kinds:
            kinds.add(json.loads(await asyncio.wait_for(feed.recv(), 5))["event"]["type"])
        assert "STATION_STATUS_CHANGED" in kinds
        await agent.close()


async def test_dashboard_feed_refuses_bad_tokens(live_server: LiveServer) -> None:
    code, _ = await _closed_with(f"{live_server.ws_url}/ws/dashboard?token=nope")
    assert code == CloseCode.AUTH_FAILED
    code, _ = await _closed_with(f"{live_server.ws_url}/ws/dashboard", send="{}")
    assert code == CloseCode.AUTH_FAILED


async def test_a_handler_crash_is_an_error_reply_and_an_agent_error_event(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gameops.server.realtime import agent_handlers

    async def broken(*_: object) -> list[object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(agent_handlers.HANDLERS, Tamper, broken)
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Tamper(kind="x"))
    error = await agent.expect(Error)
    assert error.detail == "server error handling tamper"
    await agent.send(Heartbeat(cpu=1, ram=1))
    await agent.expect(HeartbeatAck)  # the connection survived
    events = (await admin.get("/api/v1/events", params={"type": "AGENT_ERROR"})).json()
    assert "disk on fire" in events["items"][0]["data"]["error"]
    await agent.close()


async def test_server_shutdown_tells_agents_to_reconnect(live_server: LiveServer) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await live_server.stop()
    told = await agent.expect(Reconnect)  # when: tests/server/realtime/test_graceful_shutdown
    assert told.after_seconds >= 0
    with pytest.raises(ConnectionClosed) as closed:
        await agent.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.SERVICE_RESTART


async def test_an_open_dashboard_does_not_hold_up_shutdown(
    live_server: LiveServer, dashboard_token: str
) -> None:
    url = f"{live_server.ws_url}/ws/dashboard?token={dashboard_token}"
    async with websockets.connect(url) as feed:
        assert json.loads(await feed.recv())["type"] == "hello"
        # Nothing happens on the bus from here on: the handler must still end promptly.
        await asyncio.wait_for(live_server.stop(), 5)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(feed.recv(), 5)


async def test_server_hello_comes_first_even_when_a_command_arrives_at_once(
    live_server: LiveServer,
) -> None:
    """A command published the moment the connection is announced (another replica's
    outbox catching up, say) still reaches the agent after its server_hello."""
    station_id, token = await live_server.create_pc_station()
    bus = live_server.services.bus
    announcements = bus.subscribe(PRESENCE)
    ping_frame = encode(HeartbeatAck(server_time=datetime.now(UTC)))

    async def command_on_announcement() -> None:
        async for message in announcements:
            if message["station_id"] == station_id:
                await bus.publish(AGENT_COMMANDS, {"station_id": station_id, "frame": ping_frame})
                return

    racer = asyncio.create_task(command_on_announcement())
    url = f"{live_server.ws_url}/ws/agent/{station_id}?token={token}"
    async with websockets.connect(url) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        second = json.loads(await asyncio.wait_for(ws.recv(), 10))
    await racer
    assert [first["type"], second["type"]] == [ServerHello.TYPE, HeartbeatAck.TYPE]


async def test_a_handshake_finished_after_a_newer_ones_is_the_stale_connection(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """An agent whose handshake is slow (a server under load) gives up and connects again.
    When the first attempt's handshake finishes after the second's, the first is the one
    closed as replaced, with no hello: the live connection keeps the station, its commands,
    and its online state (issue 14: bench/failover.py at 300 agents)."""
    station_id, token = await live_server.create_pc_station()
    ws_url = live_server.ws_url
    live, stale_answer = await overtaken_handshake(ws_url, ws_url, station_id, token)
    session = await start_session(admin, station_id)
    assert str((await live.expect(SessionStart)).id) == session["id"]
    assert never_replaced(live)
    assert stale_answer == CloseCode.REPLACED  # closed, not greeted
    await eventually(lambda: agents_served(live_server), lambda served: served == 1)
    assert (await _station(admin, station_id))["agent_connected"] is True
    # The station row names the live connection: its end takes the station offline.
    await live.close()
    await eventually(lambda: _station(admin, station_id), lambda s: not s["agent_connected"])


async def test_a_stale_connection_that_reaches_the_hub_last_is_the_one_replaced(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale attempt's write committed first (the newer one then took the row over),
    but it reaches the hub last: the hub keeps the connection accepted last."""
    station_id, token = await live_server.create_pc_station()
    held = HeldAfterWrite(live_server, monkeypatch)
    url = f"{live_server.ws_url}/ws/agent/{station_id}"
    async with websockets.connect(url, compression=None) as stale:
        await stale.send(encode(Auth(token=token)))
        await asyncio.wait_for(held.written.wait(), 10)
        live = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
        held.release()
        assert await first_answer(stale) == ServerHello.TYPE  # it was written before
        assert await first_answer(stale) == Replaced.TYPE
    await eventually(lambda: agents_served(live_server), lambda served: served == 1)
    session = await start_session(admin, station_id)
    assert str((await live.expect(SessionStart)).id) == session["id"]
    assert never_replaced(live)
    assert (await _station(admin, station_id))["agent_connected"] is True
    await live.close()
    await eventually(lambda: _station(admin, station_id), lambda s: not s["agent_connected"])
