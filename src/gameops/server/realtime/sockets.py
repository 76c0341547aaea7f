"""Small pieces both WebSocket endpoints share."""

from __future__ import annotations

import contextlib

from fastapi import WebSocket

from gameops.protocol import CloseCode


def bearer_or_query_token(websocket: WebSocket) -> str | None:
    """``Authorization: Bearer <token>``, else ``?token=`` for clients that set no headers."""
    header = websocket.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return websocket.query_params.get("token") or None


async def refuse(websocket: WebSocket, code: CloseCode, reason: str) -> None:
    # The close reason must fit a control frame (123 bytes).
    with contextlib.suppress(RuntimeError):
        await websocket.close(code, reason.encode()[:123].decode(errors="ignore"))
