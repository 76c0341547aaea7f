"""What tests read of a server's agent sockets without speaking the whole protocol."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

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
