"""``/ws/agent/{station_id}``: the PC agent's connection (flow 5 of the design)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable
from datetime import datetime

import structlog
from fastapi import APIRouter, WebSocket
from starlette.types import ASGIApp, Receive, Scope, Send

from gameops.protocol import (
    AGENT_MESSAGES,
    Ack,
    AgentHello,
    Auth,
    CloseCode,
    Error,
    Heartbeat,
    HeartbeatAck,
    Login,
    Payload,
    ProtocolError,
    ServerHello,
    SyncRequest,
    Tamper,
    decode,
    utc_now,
)
from gameops.protocol.close_codes import retry_reason
from gameops.server.auth.security import hash_agent_token, same_hash
from gameops.server.auth.service import throttled
from gameops.server.errors import GameOpsError, NotFound
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.realtime.agent_handlers import HANDLERS, AgentServices
from gameops.server.realtime.hub import AgentConnection
from gameops.server.realtime.sockets import bearer_or_query_token, refuse
from gameops.server.stations.coalesce import TamperCoalescer
from gameops.server.throttle import Throttled

log = structlog.get_logger(__name__)
router = APIRouter()
_AGENT_PATH = re.compile(r"/ws/agent/([^/]+)")


class AgentSockets:
    """ASGI middleware, inside the request context and the hardening: an agent's socket
    goes straight to ``agent_socket``. In a reconnect storm every handshake, refused ones
    too, paid for the exception middleware, the router and FastAPI's dependency solving
    for its one path parameter: a third of the server's time for each. The route stays
    declared below (and serves the socket should this middleware not be installed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            found = _AGENT_PATH.fullmatch(_route_path(scope))
            if found is not None:
                await agent_socket(WebSocket(scope, receive, send), found.group(1))
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the routes see: without the root path the app is served under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


@router.websocket("/ws/agent/{station_id}")
async def agent_socket(websocket: WebSocket, station_id: str) -> None:
    services: AgentServices = websocket.app.state.agent_services
    await websocket.accept()
    accepted_at = utc_now()  # what orders this station's connections (hub, station row)
    delay = services.admission.enter()
    if delay is not None:
        await refuse(websocket, CloseCode.TRY_AGAIN_LATER, retry_reason("server busy", delay))
        return
    try:
        connection = await _open(services, websocket, station_id, accepted_at)
    except Exception as err:
        # The database failed or kept it waiting too long (a reconnect storm queued on
        # SQLite's one connection): come back later, spread out, rather than an error.
        log.warning("agent handshake failed; told to retry", error=repr(err)[:200])
        delay = services.admission.turn_away()
        await refuse(websocket, CloseCode.TRY_AGAIN_LATER, retry_reason("server busy", delay))
        return
    finally:
        services.admission.leave()
    if connection is None:
        return
    # Counted until everything its end writes is written (tests wait on this gauge).
    services.metrics.websockets.labels("agent").inc()
    try:
        await _serve_until_closed(services, connection)
    finally:
        services.metrics.websockets.labels("agent").dec()


async def _serve_until_closed(services: AgentServices, connection: AgentConnection) -> None:
    tampers = TamperCoalescer(
        services.settings.tamper_window_seconds, burst=services.settings.tamper_burst
    )
    reason = "connection lost"
    try:
        reason = await _serve(services, connection, tampers)
    finally:
        services.hub.unregister(connection)
        for report in tampers.drain():  # what the last window held back
            await _dispatch(services, connection.station_id, None, report)
        connection.close(CloseCode.NORMAL, reason)
        await connection.wait_closed()
        # Told to reconnect (the server is going away): the station stays online until its
        # agent is back (here or on another replica) or the presence sweep finds it silent.
        # Ten thousand disconnects would not fit in a shutdown, and every station would flicker.
        if not services.hub.sending_away:
            await _disconnected(services, connection, connection.close_reason or reason)


async def _open(
    services: AgentServices, websocket: WebSocket, station_id: str, accepted_at: datetime
) -> AgentConnection | None:
    """The handshake: authenticate, greet, take over the station's connection, unless a
    connection accepted after this one already has it (then close this one as replaced)."""
    station_uuid = await _authenticate(services, websocket, station_id)
    if station_uuid is None:
        return None
    # Batched with other agents' connects (``presence_writes``). If that fails, nothing is
    # sent yet: the caller closes with "come back later".
    connection_id = uuid.uuid4()
    if not await services.presence.connected(station_uuid, connection_id, accepted_at):
        # Accepted before the station's current connection, but its handshake was slower
        # (its agent gave up on it and came back): stale. Nothing was written; no hello.
        log.info("stale agent connection closed", station_id=str(station_uuid))
        await refuse(websocket, CloseCode.REPLACED, "replaced by a newer connection")
        return None
    count = services.metrics.count_message
    connection = AgentConnection(
        websocket,
        station_uuid,
        lambda kind: count("agent", "out", kind),
        connection_id=connection_id,
        accepted_at=accepted_at,
    )
    # The station is online before the agent hears hello (whoever reads the station after
    # the agent connected sees it connected), and the hello is queued before the connection
    # can receive commands from the bus: the agent drops a connection whose first frame is
    # anything else. A command published in between is in the agent's sync_request answer.
    connection.send(
        ServerHello(
            server_time=utc_now(),
            heartbeat_interval=services.settings.heartbeat_interval_seconds,
        )
    )
    # If the hub holds a connection accepted later (registered first, in a race with this
    # one's write), it closes this one as replaced instead, and serving it ends at once.
    await services.hub.register(connection)
    return connection


async def _disconnected(services: AgentServices, connection: AgentConnection, reason: str) -> None:
    try:
        await services.presence.disconnected(
            connection.station_id, connection.connection_id, reason
        )
    except NotFound:
        pass  # the station was archived meanwhile
    except Exception as err:
        # The row still names this connection: the presence sweep marks it offline once
        # its last heartbeat is old enough.
        log.warning("agent disconnect not written", error=repr(err)[:200])


async def _authenticate(
    services: AgentServices, websocket: WebSocket, station_id: str
) -> uuid.UUID | None:
    """The station's id if the token is that station's; otherwise close with the reason."""
    token = bearer_or_query_token(websocket)
    if token is None:
        token = await _first_message_token(websocket, services.settings.agent_auth_timeout_seconds)
        if token is None:
            return None
    limits, client = services.auth_limits, websocket.client.host if websocket.client else "unknown"
    try:
        # An address that keeps failing is refused before its token is even looked up.
        await limits.throttle.check(limits.per_ip, client)
        station_uuid, refusal = await _check_token(services, station_id, token)
        if refusal is None:
            # A right token always gets in: failures by others on this station (tokens are
            # 256 random bits, never guessed) must not lock its agent out.
            return station_uuid
        await limits.throttle.fail(limits.per_ip, client)
        await limits.throttle.acquire(limits.per_station, station_id)
    except Throttled as err:
        await throttled(services.database, err)
        reason = retry_reason("too many failed attempts", err.retry_after)
        await refuse(websocket, CloseCode.TRY_AGAIN_LATER, reason)
        return None
    await refuse(websocket, *refusal)
    return None


async def _check_token(
    services: AgentServices, station_id: str, token: str
) -> tuple[uuid.UUID | None, tuple[CloseCode, str] | None]:
    """The station's id, or why the token is refused."""
    try:
        station_uuid = uuid.UUID(station_id)
    except ValueError:
        return None, (CloseCode.UNKNOWN_STATION, "unknown station")
    live, expected = await services.tokens.hash_of(station_uuid)  # with others arriving
    if not live:
        return None, (CloseCode.UNKNOWN_STATION, "unknown station")
    if expected is None or not same_hash(expected, hash_agent_token(token)):
        return None, (CloseCode.AUTH_FAILED, "invalid agent token for this station")
    return station_uuid, None


async def _first_message_token(websocket: WebSocket, wait_seconds: float) -> str | None:
    try:
        message = await asyncio.wait_for(websocket.receive(), wait_seconds)
    except TimeoutError:
        reason = f"no authentication within {wait_seconds:g} s"
        await refuse(websocket, CloseCode.AUTH_TIMEOUT, reason)
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        _, payload = decode(message.get("text") or message.get("bytes") or b"", AGENT_MESSAGES)
    except ProtocolError as err:
        await refuse(websocket, CloseCode.AUTH_FAILED, f"expected auth: {err.detail}"[:120])
        return None
    if not isinstance(payload, Auth):
        await refuse(websocket, CloseCode.AUTH_FAILED, "the first message must be auth")
        return None
    return payload.token


async def _serve(
    services: AgentServices, connection: AgentConnection, tampers: TamperCoalescer
) -> str:
    """Read until the agent leaves, goes silent, or the connection is replaced; record the
    tamper reports held back as their windows close."""
    settings = services.settings
    silence_limit = settings.heartbeat_interval_seconds * settings.heartbeat_misses_allowed
    heard_at = time.monotonic()
    while connection.close_reason is None:
        wait = heard_at + silence_limit - time.monotonic()
        if (due_at := tampers.next_due()) is not None:
            wait = min(wait, due_at - time.monotonic())
        try:
            # Not wait_for: on 3.11 it wraps every read in a task of its own.
            async with asyncio.timeout(max(wait, 0)):
                message = await connection.websocket.receive()
        except TimeoutError:
            for report in tampers.due(time.monotonic()):
                await _dispatch(services, connection.station_id, None, report)
            if time.monotonic() - heard_at >= silence_limit:
                connection.close(CloseCode.HEARTBEAT_TIMEOUT, f"no heartbeat for {silence_limit} s")
            continue
        if message["type"] == "websocket.disconnect":
            return f"closed by agent (code {message.get('code')})"
        heard_at = time.monotonic()
        frame = message.get("text") or message.get("bytes") or b""
        for reply in await _handle(services, connection, frame, tampers):
            connection.send(reply)
    return connection.close_reason or "closed"


async def _handle(
    services: AgentServices,
    connection: AgentConnection,
    frame: str | bytes,
    tampers: TamperCoalescer,
) -> list[Payload]:
    count, station_id = services.metrics.count_message, connection.station_id
    try:
        message_id, payload = decode(frame, AGENT_MESSAGES)
    except ProtocolError as err:
        count("agent", "in", "invalid")
        return [Error(detail=err.detail, ref_id=err.message_id)]
    count("agent", "in", payload.TYPE)
    if isinstance(payload, Heartbeat):  # no transaction: kept for the next batched write
        services.heartbeats.note(station_id, connection.connection_id, payload)
        return [HeartbeatAck(server_time=utc_now())]
    if isinstance(payload, Ack) and not await _clock_may_wait(services, station_id, payload):
        return []  # recorded with the others in the next batch; nothing else hangs on it
    if isinstance(payload, Tamper):
        report = tampers.offer(payload, time.monotonic())
        if report is None:
            return []  # counted; recorded with the others when its window closes
        payload = report
    # The agent's message id is the request id of everything logged while handling it.
    with structlog.contextvars.bound_contextvars(
        request_id=str(message_id), station_id=str(station_id)
    ):
        if isinstance(payload, AgentHello):
            return await _hello(services, connection, message_id, payload)
        if isinstance(payload, SyncRequest):
            return await _sync(services, station_id, message_id, payload)
        return await _dispatch(services, station_id, message_id, payload)


async def _clock_may_wait(services: AgentServices, station_id: uuid.UUID, ack: Ack) -> bool:
    """Records ``ack``; whether it may start a waiting session's clock (then it is handled
    in a transaction). If the lookup fails, the transaction finds out for itself."""
    services.acks.add(station_id, ack.id)
    try:
        return await services.acks.clock_waits(station_id)
    except Exception as err:
        log.warning("ack lookup failed; handled on its own", error=repr(err)[:200])
        return True


async def _hello(
    services: AgentServices, connection: AgentConnection, message_id: uuid.UUID, hello: AgentHello
) -> list[Payload]:
    """Recorded with other agents' hellos (``presence_writes``) and answered with the
    login view. If the write fails, the agent is told to come back later, as a handshake
    the database failed: it says hello again then."""
    try:
        return [await services.presence.hello(connection.station_id, hello)]
    except GameOpsError as err:
        return [Error(detail=err.detail, ref_id=message_id)]
    except Exception as err:
        log.warning("agent hello not written; told to retry", error=repr(err)[:200])
        delay = services.admission.turn_away()
        connection.close(CloseCode.TRY_AGAIN_LATER, retry_reason("server busy", delay))
        return []


async def _sync(
    services: AgentServices, station_id: uuid.UUID, message_id: uuid.UUID, request: SyncRequest
) -> list[Payload]:
    """Answered with other agents' sync_requests (``sync_requests``)."""
    return await _replies_or_error(
        services, station_id, message_id, request, services.syncs.answer(station_id, request)
    )


async def _dispatch(
    services: AgentServices, station_id: uuid.UUID, message_id: uuid.UUID | None, payload: Payload
) -> list[Payload]:
    """``payload``'s handler in a transaction of its own; its replies, or an error. A
    login waits for its turn first (``PlayDesk.turns``)."""

    async def handled() -> list[Payload]:
        turn = services.play.turns if isinstance(payload, Login) else contextlib.nullcontext()
        async with turn, services.database.transaction() as db:
            return await HANDLERS[type(payload)](services, db, station_id, payload)

    return await _replies_or_error(services, station_id, message_id, payload, handled())


async def _replies_or_error(
    services: AgentServices,
    station_id: uuid.UUID,
    message_id: uuid.UUID | None,
    payload: Payload,
    replies: Awaitable[list[Payload]],
) -> list[Payload]:
    """What ``replies`` answers; a refusal as an ``error`` with its detail; any other
    failure logged, recorded and answered as a server error."""
    try:
        return await replies
    except GameOpsError as err:
        return [Error(detail=err.detail, ref_id=message_id)]
    except Exception as err:
        log.exception("agent message failed", station_id=str(station_id), type=payload.TYPE)
        await _record_agent_error(services, station_id, payload.TYPE, err)
        return [Error(detail=f"server error handling {payload.TYPE}", ref_id=message_id)]


async def _record_agent_error(
    services: AgentServices, station_id: uuid.UUID, message_type: str, err: Exception
) -> None:
    try:
        async with services.database.transaction() as db:
            record_event(
                db,
                EventType.AGENT_ERROR,
                station_id=station_id,
                data={"message_type": message_type, "error": repr(err)[:500]},
            )
    except Exception:
        log.exception("could not record AGENT_ERROR")
