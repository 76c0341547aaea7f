"""What tests read of a server's agent sockets without speaking the whole protocol."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from gameops.protocol import Auth, Replaced, encode
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer


async def agents_served(server: LiveServer) -> float:
    """Agent connections the server is serving, each until its end is written (the
    ``gameops_websocket_connections`` gauge of /metrics; 0 before the first)."""
    metrics = server.services.metrics.registry
    served = metrics.get_sample_value("gameops_websocket_connections", {"kind": "agent"})
    return served or 0.0


async def first_answer(ws: ClientConnection, timeout: float = 15) -> str | int:
    """The type of the first message on ``ws``, or its close code if it is closed first."""
    try:
        frame = await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    kind: str = json.loads(frame)["type"]
    return kind


async def overtaken_handshake(
    stale_ws_url: str, live_ws_url: str, station_id: str, token: str
) -> tuple[ScriptedAgent, str | int]:
    """An agent's first attempt, accepted by the server at ``stale_ws_url``, sends its token
    only after its second attempt (to ``live_ws_url``) got in: a handshake the server finished
    late. The live agent, and what the first attempt was answered."""
    url = f"{stale_ws_url}/ws/agent/{station_id}"
    async with websockets.connect(url, compression=None) as stale:  # accepted; waits for auth
        live = await ScriptedAgent.connect(live_ws_url, station_id, token)
        await stale.send(encode(Auth(token=token)))
        return live, await first_answer(stale)  # the server is done with its handshake


def never_replaced(agent: ScriptedAgent) -> bool:
    return not [payload for _, payload in agent.received if isinstance(payload, Replaced)]


class HeldAfterWrite:
    """Holds the next agent connect on ``server`` after its write committed, until
    ``release()``: a handshake slowed between the database and the hub, so that another
    connection's can get ahead of it there."""

    def __init__(self, server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.written = asyncio.Event()
        self._release = asyncio.Event()
        writer = server.services.presence
        write = writer.connected

        async def connected_then_held(*args: Any) -> bool:
            current = await write(*args)
            if not self.written.is_set():
                self.written.set()
                await self._release.wait()
            return current

        monkeypatch.setattr(writer, "connected", connected_then_held)

    def release(self) -> None:
        self._release.set()
