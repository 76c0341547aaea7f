"""The agent connections this process holds, and delivery of commands to them.

Commands arrive on the bus from the outbox (whichever replica made the change), so a
command reaches its agent whichever replica the agent is connected to. Of a station's
connections, the one whose socket was accepted last is kept, here or on another replica
(announced on the PRESENCE channel); an older one is replaced, even one whose slow handshake
finished later. An ``AgentAccessEnded`` domain event closes the station's connection
wherever it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketState

from gameops.protocol import CloseCode, Payload, Reconnect, Replaced, encode
from gameops.server.bus import AGENT_COMMANDS, DOMAIN, PRESENCE, EventBus, Message, Subscription
from gameops.server.events.base import typed
from gameops.server.stations.events import AgentAccessEnded

log = structlog.get_logger(__name__)
OUTGOING_LIMIT = 256
# A server going away spreads its agents' reconnects so that whoever takes them (the other
# replicas, or this one restarted) sees as many handshakes a second as it can finish
# (``Admission.reconnect_rate``), over at least a second and at most this long (agents
# wait at most a minute in all).
RECONNECT_SPREAD_LIMIT = 30.0


def reconnect_spread(agents: int, per_second: float) -> float:
    """The window over which ``agents`` told to reconnect are spread, in seconds."""
    return min(RECONNECT_SPREAD_LIMIT, max(1.0, agents / per_second))


class AgentConnection:
    """One agent's socket. Everything sent goes through one queue and one writer task, so
    frames keep their order and a slow socket never blocks the sender."""

    def __init__(
        self,
        websocket: WebSocket,
        station_id: uuid.UUID,
        count_sent: Callable[[str], None] = lambda _: None,
        connection_id: uuid.UUID | None = None,
        *,
        accepted_at: datetime,
    ) -> None:
        self.websocket = websocket
        self._count_sent = count_sent  # by message type, for the metrics
        self.station_id = station_id
        self.connection_id = connection_id or uuid.uuid4()
        # When the socket was accepted, not when its handshake finished: a slow handshake
        # (its agent gave up and came back) must not make a stale connection the newest.
        self.accepted_at = accepted_at
        self.close_reason: str | None = None
        self._close_code = CloseCode.NORMAL
        self._outgoing: asyncio.Queue[str | None] = asyncio.Queue(OUTGOING_LIMIT)
        self._writer = asyncio.create_task(self._write(), name=f"agent-writer-{station_id}")

    @property
    def order(self) -> tuple[float, int]:
        """Orders a station's connections: accepted later is greater (ties by id)."""
        return self.accepted_at.timestamp(), self.connection_id.int

    def send(self, payload: Payload, message_id: uuid.UUID | None = None) -> None:
        self.send_frame(encode(payload, message_id), payload.TYPE)

    def send_frame(self, frame: str, message_type: str = "unknown") -> None:
        try:
            self._outgoing.put_nowait(frame)
            self._count_sent(message_type)
        except asyncio.QueueFull:
            log.warning("agent not reading; closing", station_id=str(self.station_id))
            self.close(CloseCode.HEARTBEAT_TIMEOUT, "agent is not reading its messages")

    def close(self, code: CloseCode, reason: str) -> None:
        """Send what is queued, then close with ``code``."""
        if self.close_reason is None:
            self.close_reason = reason
            self._close_code = code
            with contextlib.suppress(asyncio.QueueFull):
                self._outgoing.put_nowait(None)

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write(self) -> None:
        try:
            while (frame := await self._outgoing.get()) is not None:
                await self.websocket.send_text(frame)
            if self.websocket.application_state is WebSocketState.CONNECTED:
                await self.websocket.close(self._close_code, self.close_reason)
        except Exception as err:  # the peer went away mid-send; the reader sees it too
            log.debug("agent socket write failed", station_id=str(self.station_id), error=str(err))


class AgentHub:
    def __init__(
        self,
        bus: EventBus,
        reconnect_rate: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self._bus = bus
        self._reconnect_rate = reconnect_rate  # handshakes a second a successor can take
        self._rng = rng or random.Random()
        self._origin = uuid.uuid4().hex
        self._connections: dict[uuid.UUID, AgentConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sending_away = False  # the server is going away: its agents were told to go

    def __len__(self) -> int:
        return len(self._connections)

    def is_connected_here(self, station_id: uuid.UUID) -> bool:
        return station_id in self._connections

    def stations_here(self) -> list[uuid.UUID]:
        """The stations whose agents this replica holds now."""
        return list(self._connections)

    def send_here(self, station_id: uuid.UUID, payload: Payload) -> bool:
        """Send to an agent connected to this replica; False if it is not (any longer)."""
        connection = self._connections.get(station_id)
        if connection is None:
            return False
        connection.send(payload)
        return True

    async def start(self) -> None:
        self._spawn(self._deliver(self._bus.subscribe(AGENT_COMMANDS)), "hub-commands")
        self._spawn(self._follow_presence(self._bus.subscribe(PRESENCE)), "hub-presence")
        self._spawn(self._follow_access(self._bus.subscribe(DOMAIN)), "hub-access")

    async def send_away(self, within: float) -> None:
        """Graceful shutdown: tell every agent here to ``reconnect`` after its own random
        delay (so they do not all come back in the same second), close each with 1012, and
        give the frames up to ``within`` seconds to leave."""
        self.sending_away = True
        connections = tuple(self._connections.values())
        rate = self._reconnect_rate()
        spread = reconnect_spread(len(connections), rate)
        log.info("agents told to reconnect", agents=len(connections), spread=spread, rate=rate)
        for connection in connections:
            delay = round(self._rng.uniform(0, spread), 2)
            connection.send(Reconnect(after_seconds=delay))
            connection.close(CloseCode.SERVICE_RESTART, "server shutting down")
        closed = asyncio.gather(*(connection.wait_closed() for connection in connections))
        try:
            await asyncio.wait_for(closed, within)
        except TimeoutError:
            log.warning("agents still being told to reconnect at shutdown", agents=len(self))

    async def close(self) -> None:
        for connection in tuple(self._connections.values()):
            connection.close(CloseCode.SERVICE_RESTART, "server shutting down")
        for task in tuple(self._tasks):
            task.cancel()

    async def register(self, connection: AgentConnection) -> bool:
        """Hold ``connection`` as its station's and announce it to the other replicas; the
        connection held before is replaced. Unless the one held was accepted later: then the
        newcomer is the stale one (its handshake was slow), closed as replaced, and not
        announced (False)."""
        previous = self._connections.get(connection.station_id)
        if previous is not None and previous.order > connection.order:
            _replace(connection)
            return False
        self._connections[connection.station_id] = connection
        if previous is not None:
            _replace(previous)
        await self._announce(connection)
        return True

    async def _announce(self, connection: AgentConnection) -> None:
        connected_at, _ = connection.order
        announcement = {
            "station_id": str(connection.station_id),
            "connection_id": str(connection.connection_id),
            "connected_at": connected_at,  # when its socket was accepted
            "origin": self._origin,
        }
        try:
            await self._bus.publish(PRESENCE, announcement)
        except Exception as err:
            # The agent is served all the same; an older connection on another replica is
            # closed by its own heartbeat limit, and the station row names the newest.
            log.warning("could not announce an agent connection", error=repr(err)[:200])

    def send_to(
        self, station_id: uuid.UUID, connection_id: uuid.UUID, payloads: list[Payload]
    ) -> None:
        """Send to the station's connection here, if it is still ``connection_id``."""
        connection = self._connections.get(station_id)
        if connection is not None and connection.connection_id == connection_id:
            for payload in payloads:
                connection.send(payload)

    def unregister(self, connection: AgentConnection) -> None:
        if self._connections.get(connection.station_id) is connection:
            del self._connections[connection.station_id]

    async def _deliver(self, subscription: Subscription) -> None:
        async for message in subscription:
            connection = self._connections.get(uuid.UUID(message["station_id"]))
            if connection is not None:
                connection.send_frame(message["frame"], message.get("type", "unknown"))

    async def _follow_presence(self, subscription: Subscription) -> None:
        async for message in subscription:
            self._on_presence(message)

    async def _follow_access(self, subscription: Subscription) -> None:
        async for event in typed(subscription, [AgentAccessEnded]):
            connection = self._connections.get(event.station_id)
            if connection is not None:
                connection.close(CloseCode.AUTH_FAILED, event.reason)

    def _on_presence(self, message: Message) -> None:
        if message.get("origin") == self._origin:
            return  # our own connection: register() already replaced the older one here
        connection = self._connections.get(uuid.UUID(message["station_id"]))
        if connection is None:
            return
        announced = (float(message.get("connected_at", 0)), _id_int(message.get("connection_id")))
        if connection.order < announced:
            _replace(connection)
        elif connection.order > announced:
            # A stale connection got in over there (its handshake finished after ours had
            # been announced): say again which one is the newest, so that it is replaced.
            self._spawn(self._announce(connection), "hub-announce-again")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _id_int(connection_id: object) -> int:
    return uuid.UUID(str(connection_id)).int if connection_id else 0


def _replace(connection: AgentConnection) -> None:
    connection.send(Replaced())
    connection.close(CloseCode.REPLACED, "replaced by a newer connection")
