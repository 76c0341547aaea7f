"""A dashboard's live feed as a test sees it: every event it was sent, in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class DashboardFeed:
    def __init__(self, connection: ClientConnection, last_event_id: int) -> None:
        self.connection = connection
        self.last_event_id = last_event_id
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, ws_url: str, token: str) -> DashboardFeed:
        connection = await websockets.connect(f"{ws_url}/ws/dashboard?token={token}")
        hello = json.loads(await connection.recv())
        return cls(connection, int(hello["last_event_id"]))

    def ids(self) -> list[int]:
        return [int(event["id"]) for event in self.events]

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in self.connection:
                message = json.loads(frame)
                if message.get("type") == "event":
                    self.events.append(message["event"])
