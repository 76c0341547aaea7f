"""A scripted agent for server tests: a real WebSocket client speaking gameops.protocol."""

from __future__ import annotations

import asyncio
import uuid
from typing import TypeVar

import websockets
from websockets.asyncio.client import ClientConnection

from gameops.protocol import (
    ACKED_COMMANDS,
    SERVER_MESSAGES,
    Ack,
    AgentHello,
    Payload,
    ServerHello,
    decode,
    encode,
)

P = TypeVar("P", bound=Payload)


class ScriptedAgent:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.received: list[tuple[uuid.UUID, Payload]] = []
        self.hello: ServerHello | None = None

    @classmethod
    async def connect(
        cls, ws_url: str, station_id: str, token: str, *, auto_ack: bool = True
    ) -> ScriptedAgent:
        connection = await websockets.connect(
            f"{ws_url}/ws/agent/{station_id}",
            additional_headers={"Authorization": f"Bearer {token}"},
            compression=None,
        )
        agent = cls(connection)
        agent.auto_ack = auto_ack
        agent.hello = await agent.expect(ServerHello)
        return agent

    auto_ack = True

    async def send(self, payload: Payload, message_id: uuid.UUID | None = None) -> uuid.UUID:
        message_id = message_id or uuid.uuid4()
        await self.connection.send(encode(payload, message_id))
        return message_id

    async def say_hello(self) -> None:
        await self.send(AgentHello(agent_version="test-1", os="TestOS", specs={"cpu": "test"}))

    async def next(self, timeout: float = 5) -> tuple[uuid.UUID, Payload]:
        frame = await asyncio.wait_for(self.connection.recv(), timeout)
        message_id, payload = decode(frame, SERVER_MESSAGES)
        self.received.append((message_id, payload))
        if self.auto_ack and payload.TYPE in ACKED_COMMANDS:
            await self.send(Ack(id=message_id))
        return message_id, payload

    async def expect(self, kind: type[P], timeout: float = 5) -> P:
        """The next message of type ``kind``, skipping others (heartbeat acks and such)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {kind.TYPE} within {timeout} s")
            _, payload = await self.next(left)
            if isinstance(payload, kind):
                return payload

    async def close(self) -> None:
        await self.connection.close()
