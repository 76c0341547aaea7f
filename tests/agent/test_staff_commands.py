"""Staff commands end to end: the real agent (Simulated backend) over a real WebSocket to a
real server; commands sent from the REST API, carried out, acked and audited. The message
with its "Got it" on the real Tk overlay under Xvfb, clicked through the X server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent.overlay import MESSAGE_BACKGROUND, MESSAGE_SIZE
from gameops.protocol.wake import magic_packet
from gameops.server.settings import Settings
from tests.agent.harness import (
    RunningAgent,
    StartOnScreen,
    agent_config,
    connected_agent,
    wait_until,
)
from tests.agent.screen import SCREEN, VirtualDisplay, click_and_type, wait_for_colour
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually
from tests.support.wake import net_specs, waking_to

Json = dict[str, Any]


@pytest.fixture
def settings(settings: Settings, udp_receiver: socket.socket) -> Settings:
    """Magic packets go to our UDP socket's port (agents relay them on the loopback net)."""
    return waking_to(settings, udp_receiver)


async def send(admin: httpx.AsyncClient, station_id: str, **body: Any) -> Json:
    answer = await admin.post(f"/api/v1/stations/{station_id}/commands", json=body)
    assert answer.status_code == 201, answer.text
    created: Json = answer.json()
    return created


async def finished(admin: httpx.AsyncClient, command_id: str, seen: bool = False) -> Json:
    async def probe() -> Json:
        body: Json = (await admin.get(f"/api/v1/commands/{command_id}")).json()
        return body

    def accept(c: Json) -> bool:
        return c["status"] in ("DONE", "FAILED") and (not seen or c["seen_at"] is not None)

    return await eventually(probe, accept)


async def test_message_lock_logoff_restart_shutdown_carried_out_and_acked(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path, "PC-CMD")
    message = await send(admin, station_id, kind="message", text="Closing in 10 minutes")
    done = await finished(admin, message["id"])
    assert done["ok"] and done["detail"] == "shown as a notification (no overlay: no Got it)"
    assert ("notify", "Message from staff", "Closing in 10 minutes") in running.control.actions

    for kind, action, detail in [
        ("lock", "lock_screen", "locked"),
        ("logoff", "log_off", "logged off"),
        ("restart", "power", "restart started"),
        ("shutdown", "power", "shutdown started"),
    ]:
        before = running.control.names().count(action)
        command = await send(admin, station_id, kind=kind)
        done = await finished(admin, command["id"])
        assert (done["status"], done["detail"]) == ("DONE", detail), kind
        assert running.control.names().count(action) == before + 1
    assert [a for a in running.control.actions if a[0] == "power"] == [
        ("power", "restart"), ("power", "shutdown")
    ]  # fmt: skip
    await running.stop()


async def test_commands_queued_while_offline_are_carried_out_when_the_agent_is_back(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-LATER")
    queued = [
        await send(admin, station_id, kind="message", text="Welcome back"),
        await send(admin, station_id, kind="lock"),
    ]
    assert [c["status"] for c in queued] == ["QUEUED", "QUEUED"]
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token), tmp_path / "state.json"
    ).start()
    for command in queued:
        assert (await finished(admin, command["id"]))["status"] == "DONE"
    assert ("notify", "Message from staff", "Welcome back") in running.control.actions
    # Sent once: a later sync does not redo what has an answer.
    await running.agent.link.flush(1)
    assert running.control.names().count("notify") == 1
    await running.stop()


async def test_wake_relayed_by_an_agent_on_the_same_subnet(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path, udp_receiver: socket.socket
) -> None:
    sleeper, sleeper_id = await connected_agent(
        live_server, tmp_path, "PC-SLEEPS", net_specs("00:1a:2b:3c:4d:5e", "127.0.0.21")
    )
    await eventually(
        lambda: admin.get(f"/api/v1/stations/{sleeper_id}"), lambda r: r.json()["specs"]["macs"]
    )
    await sleeper.stop()
    relay, relay_id = await connected_agent(
        live_server, tmp_path, "PC-RELAY", net_specs("00:1a:2b:3c:4d:99", "127.0.0.7")
    )
    url = f"/api/v1/stations/{sleeper_id}/commands"
    woken = await eventually(
        lambda: admin.post(url, json={"kind": "wake"}), lambda r: r.status_code == 201
    )
    assert woken.json()["via_station_id"] == relay_id
    packet, _ = await asyncio.to_thread(udp_receiver.recvfrom, 1024)
    assert packet == b"\xff" * 6 + bytes.fromhex("001a2b3c4d5e") * 16
    assert packet == magic_packet("00:1a:2b:3c:4d:5e")
    done = await finished(admin, woken.json()["id"])
    assert done["detail"].startswith("magic packet for 00:1a:2b:3c:4d:5e sent to 127.255.255.255")
    await relay.stop()


@pytest.mark.parametrize("mode", ["separate", "in_process"])
async def test_a_message_on_the_overlay_and_its_got_it_click_recorded(
    mode: str,
    admin: httpx.AsyncClient,
    display: VirtualDisplay,
    start_on_screen: StartOnScreen,
) -> None:
    running, station_id = await start_on_screen("PC-MSG", grace=30, overlay_mode=mode)
    if mode == "in_process":
        await wait_until(
            lambda: running.agent.desktop is not None and running.agent.desktop.showing
        )
    message = await send(admin, station_id, kind="message", text="Please keep your feet off")
    shown = await finished(admin, message["id"])
    assert shown["detail"] == "shown on screen" and shown["seen_at"] is None

    width, height = MESSAGE_SIZE
    left, top = (SCREEN[0] - width) // 2, (SCREEN[1] - height) // 3
    await wait_for_colour(display, (left + 4, top + 4), MESSAGE_BACKGROUND, f"staff-message-{mode}")
    button = (left + width // 2, top + height - 32)
    await click_and_type(display, button)
    seen = await finished(admin, message["id"], seen=True)
    assert seen["seen_at"] is not None
    events = (await admin.get("/api/v1/events", params={"type": "STATION_COMMAND_SEEN"})).json()
    assert [e["data"]["command_id"] for e in events["items"]] == [message["id"]]
    await wait_for_colour(display, (left + 4, top + 4), "#111827", f"staff-message-gone-{mode}")
