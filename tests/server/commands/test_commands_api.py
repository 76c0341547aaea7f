"""Staff commands over the API, with real WebSocket clients playing the agents: sent or
queued, acked, audited, refused with a clear error; wake relayed or sent by the server."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from gameops.protocol import (
    AgentHello,
    CommandResult,
    Error,
    SessionEnd,
    StationCommand,
    SyncRequest,
    Tamper,
    TamperClear,
    WakeRelay,
    utc_now,
)
from gameops.protocol.wake import magic_packet
from gameops.server.db.engine import create_engine
from gameops.server.db.models import StationCommandRecord
from gameops.server.settings import Settings
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.sessions import start_session
from tests.support.waiting import eventually
from tests.support.wake import waking_to

Json = dict[str, Any]


def specs(mac: str, ip: str, netmask: str = "255.0.0.0") -> Json:
    return {"macs": [mac], "interfaces": {mac: f"{ip}/{netmask}"}}


async def online(
    live_server: LiveServer, station_id: str, token: str, **hello: Any
) -> ScriptedAgent:
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(AgentHello(agent_version="t", os="TestOS", specs=hello.get("specs", {})))
    return agent


async def command(admin: httpx.AsyncClient, command_id: str) -> Json:
    body: Json = (await admin.get(f"/api/v1/commands/{command_id}")).json()
    return body


async def audit(admin: httpx.AsyncClient, station_id: str) -> list[Json]:
    params = {"station_id": station_id, "per_page": 100}
    items: list[Json] = (await admin.get("/api/v1/events", params=params)).json()["items"]
    return [e for e in items if e["type"].startswith("STATION_COMMAND")]


async def test_a_message_is_sent_shown_acknowledged_and_audited(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await online(live_server, station_id, token)
    await eventually(
        lambda: admin.get(f"/api/v1/stations/{station_id}"), lambda r: r.json()["agent_connected"]
    )
    sent = await admin.post(
        f"/api/v1/stations/{station_id}/commands", json={"kind": "message", "text": "Closing at 2"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "SENT"
    wire = await agent.expect(StationCommand)
    assert (str(wire.id), wire.kind, wire.text, wire.by) == (
        sent.json()["id"],
        "message",
        "Closing at 2",
        "admin",
    )

    await agent.send(CommandResult(id=wire.id, ok=True, detail="shown on screen"))
    done = await eventually(lambda: command(admin, str(wire.id)), lambda c: c["status"] == "DONE")
    assert done["ok"] is True and done["detail"] == "shown on screen" and done["seen_at"] is None
    await agent.send(CommandResult(id=wire.id, ok=True, detail="Got it", seen=True))
    seen = await eventually(
        lambda: command(admin, str(wire.id)), lambda c: c["seen_at"] is not None
    )
    assert seen["status"] == "DONE"

    trail = await audit(admin, station_id)
    assert [e["type"] for e in trail] == [
        "STATION_COMMAND_SEEN", "STATION_COMMAND_RESULT", "STATION_COMMAND"
    ]  # fmt: skip
    assert all(e["actor_id"] == sent.json()["requested_by"] for e in trail)  # who
    assert {e["data"]["command_id"] for e in trail} == {str(wire.id)}
    history = (await admin.get("/api/v1/commands", params={"station_id": station_id})).json()
    assert [c["id"] for c in history["items"]] == [str(wire.id)]
    await agent.close()


async def test_offline_message_and_lock_wait_for_the_agent_power_commands_are_refused(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    url = f"/api/v1/stations/{station_id}/commands"
    message = await admin.post(url, json={"kind": "message", "text": "Hello"})
    lock = await admin.post(url, json={"kind": "lock"})
    assert [message.json()["status"], lock.json()["status"]] == ["QUEUED", "QUEUED"]
    restart = await admin.post(url, json={"kind": "restart"})
    assert restart.status_code == 409
    assert restart.json() == {"detail": restart.json()["detail"], "offer": "wake"}
    assert "offline: use wake" in restart.json()["detail"]
    shutdown = await admin.post(url, json={"kind": "shutdown"})
    assert shutdown.status_code == 409 and "needs its agent connected" in shutdown.json()["detail"]
    bad = await admin.post(url, json={"kind": "format_disk"})
    assert bad.status_code == 422
    refusals = [e for e in await audit(admin, station_id) if e["type"].endswith("_REFUSED")]
    assert [e["data"] for e in refusals] == [  # audited like the rest: who, what, when, why
        {
            "kind": "shutdown",
            "status": "REFUSED",
            "by": "admin",
            "detail": shutdown.json()["detail"],
        },
        {
            "kind": "restart",
            "status": "REFUSED",
            "by": "admin",
            "detail": restart.json()["detail"],
            "offer": "wake",
        },
    ]
    assert all(e["actor_id"] and e["created_at"] for e in refusals)

    agent = await online(live_server, station_id, token)
    await agent.send(SyncRequest())
    first, second = await agent.expect(StationCommand), await agent.expect(StationCommand)
    assert [first.kind, second.kind] == ["message", "lock"]  # in the order staff sent them
    assert first.by == "admin"  # who sent it, shown with the message
    assert (await command(admin, message.json()["id"]))["status"] == "SENT"
    await agent.send(CommandResult(id=second.id, ok=True, detail="locked"))
    await eventually(lambda: command(admin, str(second.id)), lambda c: c["status"] == "DONE")
    await agent.close()


async def test_restart_and_shutdown_in_paid_time_ask_for_confirmation(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await online(live_server, station_id, token)
    session = await start_session(admin, station_id, minutes=30)
    url = f"/api/v1/stations/{station_id}/commands"
    asked = await admin.post(url, json={"kind": "restart"})
    assert asked.status_code == 409 and asked.json()["confirm_required"] is True
    assert asked.json()["session_effect"] == "kept"
    restart = await admin.post(url, json={"kind": "restart", "confirm": True})
    assert restart.status_code == 201 and restart.json()["session_effect"] == "kept"
    assert restart.json()["session_id"] == session["id"]
    assert (await agent.expect(StationCommand)).kind == "restart"
    running = await admin.get(f"/api/v1/sessions/{session['id']}")
    assert running.json()["status"] == "ACTIVE"

    asked = await admin.post(url, json={"kind": "shutdown"})
    assert asked.json()["session_effect"] == "ended"
    shutdown = await admin.post(url, json={"kind": "shutdown", "confirm": True})
    assert shutdown.status_code == 201, shutdown.text
    assert (await agent.expect(SessionEnd)).id is not None
    ended = await admin.get(f"/api/v1/sessions/{session['id']}")
    assert ended.json()["status"] == "STOPPED"
    kinds = [e["type"] for e in await audit(admin, station_id)]
    assert "STATION_COMMAND_REFUSED" not in kinds  # a question to confirm is not a refusal
    await agent.close()


async def test_wake_is_relayed_by_an_online_agent_on_the_same_subnet(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    sleeper_id, sleeper_token = await live_server.create_pc_station("PC-SLEEPS")
    relay_id, relay_token = await live_server.create_pc_station("PC-RELAY")
    far_id, far_token = await live_server.create_pc_station("PC-FAR")
    sleeper = await online(
        live_server,
        sleeper_id,
        sleeper_token,
        specs=specs("aa:bb:cc:00:00:01", "10.1.0.21", "255.255.255.0"),
    )
    await sleeper.send(SyncRequest())  # hello handled before it leaves
    await _any_reply(sleeper)  # its sync answer: the hello is recorded by then
    await sleeper.close()
    far = await online(
        live_server,
        far_id,
        far_token,
        specs=specs("aa:bb:cc:00:00:02", "10.2.0.5", "255.255.255.0"),
    )
    url = f"/api/v1/stations/{sleeper_id}/commands"
    await eventually(
        lambda: admin.get(f"/api/v1/stations/{sleeper_id}"),
        lambda r: not r.json()["agent_connected"],
    )
    nobody = await admin.post(url, json={"kind": "wake"})
    assert nobody.status_code == 409 and "No online station" in nobody.json()["detail"]

    relay = await online(
        live_server,
        relay_id,
        relay_token,
        specs=specs("aa:bb:cc:00:00:03", "10.1.0.7", "255.255.255.0"),
    )
    await relay.send(SyncRequest())
    woken = await eventually(
        lambda: admin.post(url, json={"kind": "wake"}), lambda r: r.status_code == 201
    )
    assert woken.json()["via_station_id"] == relay_id
    ask = await relay.expect(WakeRelay)
    assert (ask.mac, ask.address, ask.port) == ("aa:bb:cc:00:00:01", "10.1.0.255", 9)
    await far.send(CommandResult(id=ask.id, ok=True, detail="not mine"))  # another station
    assert isinstance(await _any_reply(far, Error), Error)
    await relay.send(CommandResult(id=ask.id, ok=True, detail="magic packet sent to 10.1.0.255:9"))
    done = await eventually(lambda: command(admin, str(ask.id)), lambda c: c["status"] == "DONE")
    assert done["detail"] == "magic packet sent to 10.1.0.255:9"
    online_again = await admin.post(f"/api/v1/stations/{relay_id}/commands", json={"kind": "wake"})
    assert online_again.status_code == 409 and "already on" in online_again.json()["detail"]
    await relay.close()
    await far.close()


async def _any_reply(agent: ScriptedAgent, kind: type[Any] | None = None) -> Any:
    while True:
        _, payload = await agent.next()
        if kind is None or isinstance(payload, kind):
            return payload


@pytest.fixture
async def lan_server(settings: Settings, udp_receiver: socket.socket) -> AsyncIterator[LiveServer]:
    """A server on the venue LAN: it sends the magic packet itself (to our UDP socket)."""
    server = LiveServer(waking_to(settings, udp_receiver, wake_from_server=True))
    await server.start()
    yield server
    await server.close()


async def test_wake_from_the_server_sends_the_magic_packet(
    lan_server: LiveServer, udp_receiver: socket.socket
) -> None:
    admin = await lan_server.admin_client()
    station_id, token = await create_station_with_token(admin, "PC-WAKE")
    agent = await online(
        lan_server, station_id, token, specs=specs("00:1a:2b:3c:4d:5e", "127.0.0.21")
    )
    await agent.send(SyncRequest())
    await _any_reply(agent)
    await agent.close()
    url = f"/api/v1/stations/{station_id}/commands"
    woken = await eventually(
        lambda: admin.post(url, json={"kind": "wake"}), lambda r: r.status_code == 201
    )
    packet, _ = udp_receiver.recvfrom(1024)  # sent to 127.255.255.255, the PC's subnet
    assert (
        packet
        == b"\xff" * 6 + bytes.fromhex("001a2b3c4d5e") * 16
        == magic_packet("00:1a:2b:3c:4d:5e")
    )
    done = await eventually(
        lambda: command(admin, woken.json()["id"]), lambda c: c["status"] == "DONE"
    )
    assert "127.255.255.255" in done["detail"] and done["via_station_id"] is None


async def test_a_selection_each_sent_queued_or_refused_and_clear_tamper(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    on_id, on_token = await live_server.create_pc_station()
    off_id, _ = await live_server.create_pc_station()
    console_id, _ = await create_station_with_token(admin, type="CONSOLE")
    agent = await online(live_server, on_id, on_token)
    await agent.send(Tamper(kind="overlay_killed", detail="4 in a minute", lock=True))
    await eventually(
        lambda: admin.get(f"/api/v1/stations/{on_id}"),
        lambda r: r.json()["tamper_locked_at"] is not None,
    )
    body = {
        "kind": "message",
        "text": "Tournament in 5",
        "station_ids": [on_id, off_id, console_id],
    }
    answer = await admin.post("/api/v1/commands", json=body)
    assert answer.status_code == 200, answer.text
    on, off, console = answer.json()["outcomes"]
    assert on["command"]["status"] == "SENT" and off["command"]["status"] == "QUEUED"
    assert (
        console["command"] is None
        and console["status_code"] == 409
        and "console" in console["error"]
    )
    assert (await agent.expect(StationCommand)).text == "Tournament in 5"

    clear = {"kind": "clear_tamper", "station_ids": [on_id, off_id]}
    cleared, refused = (await admin.post("/api/v1/commands", json=clear)).json()["outcomes"]
    assert cleared["command"]["status"] == "DONE" and refused["error"].endswith("not tamper-locked")
    refusals = {
        e["station_id"]: e["data"]
        for station in (console_id, off_id)
        for e in await audit(admin, station)
        if e["type"] == "STATION_COMMAND_REFUSED"
    }
    assert refusals[console_id]["kind"] == "message" and "console" in refusals[console_id]["detail"]
    assert refusals[off_id]["kind"] == "clear_tamper"
    assert await agent.expect(TamperClear)
    await agent.close()


async def test_a_command_left_queued_too_long_expires_instead_of_being_sent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    url = f"/api/v1/stations/{station_id}/commands"
    stale = (await admin.post(url, json={"kind": "message", "text": "Closing in 5"})).json()
    fresh = (await admin.post(url, json={"kind": "lock"})).json()
    queued_at = utc_now() - timedelta(minutes=live_server.settings.command_queue_minutes + 1)
    engine = create_engine(live_server.settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(
            update(StationCommandRecord)
            .where(StationCommandRecord.id == uuid.UUID(stale["id"]))
            .values(created_at=queued_at)
        )
    await engine.dispose()

    agent = await online(live_server, station_id, token)
    await agent.send(SyncRequest())
    assert (await agent.expect(StationCommand)).kind == "lock"  # the message is not sent
    dropped = await command(admin, stale["id"])
    assert dropped["status"] == "FAILED" and dropped["detail"].startswith("expired")
    assert (await command(admin, fresh["id"]))["status"] == "SENT"
    await agent.close()


@pytest.fixture
async def impatient_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """Gives up on an answer after 1 s."""
    server = LiveServer(settings.model_copy(update={"command_answer_seconds": 1}))
    await server.start()
    yield server
    await server.close()


async def test_a_restart_never_answered_is_failed_as_such(impatient_server: LiveServer) -> None:
    admin = await impatient_server.admin_client()
    station_id, token = await create_station_with_token(admin)
    agent = await online(impatient_server, station_id, token)  # it will not answer
    url = f"/api/v1/stations/{station_id}/commands"
    sent = await eventually(
        lambda: admin.post(url, json={"kind": "restart"}), lambda r: r.status_code == 201
    )
    lock = (await admin.post(url, json={"kind": "lock"})).json()
    failed = await eventually(
        lambda: command(admin, sent.json()["id"]), lambda c: c["status"] != "SENT"
    )
    assert failed["status"] == "FAILED" and failed["detail"].startswith("no answer from the PC")
    assert (await command(admin, lock["id"]))["status"] == "SENT"  # sent again at the next sync
    await agent.close()
