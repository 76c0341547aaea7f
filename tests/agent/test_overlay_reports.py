"""What the overlay reports of itself reaches the server: a user-session part that finds its
keyboard hook removed by Windows (control/keyboard.py) tells the service over the local
channel, and the service sends it on as tamper. Real server, real agent, a real socket on
the channel; the overlay's side is played by this test, as only Windows removes hooks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from gameops.agent.localwire import encode_line
from tests.agent.agentproc import events
from tests.agent.harness import RunningAgent, agent_config, wait_for_tamper, wait_until
from tests.support.live_server import LiveServer


async def test_a_removed_keyboard_hook_reported_by_the_overlay_is_tamper_on_the_server(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-HOOK")
    config = agent_config(live_server.base_url, station_id, token, overlay=True)
    stand_in = [sys.executable, "-c", "import time; time.sleep(60)"]  # the supervised child
    running = RunningAgent(config, tmp_path / "state.json", overlay_command=stand_in).start()
    try:
        await wait_until(lambda: running.agent.link.connected)
        await wait_until(lambda: running.agent.channel is not None)
        channel = running.agent.channel
        assert channel is not None
        _, writer = await asyncio.open_connection("127.0.0.1", channel.port)
        writer.write(encode_line({"op": "hello", "secret": channel.secret, "pid": 1}))
        detail = "Windows removed the lock view's keyboard hook (it did not answer in time)"
        writer.write(
            encode_line(
                {"op": "tamper", "kind": "keyboard_hook_removed", "detail": detail, "count": 2}
            )
        )
        await writer.drain()
        assert "keyboard_hook_removed" in await wait_for_tamper(admin, "keyboard_hook_removed")
        [report] = [e["data"] for e in await events(admin, "AGENT_TAMPER", station_id)]
        assert (report["kind"], report["count"], report["detail"]) == (
            "keyboard_hook_removed", 2, detail,
        )  # fmt: skip
        writer.close()
    finally:
        await running.stop()
