"""``/ws/dashboard``: the live feed of audit events for staff screens.

Messages: ``{"type": "hello", "last_event_id": N}`` first, then ``{"type": "event",
"event": {...}}`` per event. A client that falls too far behind is closed with 1013 and
should reload state over REST (``GET /api/v1/events?after_id=N``) and reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket
from sqlalchemy import func, select

from gameops.protocol import CloseCode
from gameops.server.bus import DOMAIN, EVENTS, EventBus, Subscription
from gameops.server.db.engine import Database
from gameops.server.db.models import Event
from gameops.server.deps import user_from_access_token
from gameops.server.errors import GameOpsError
from gameops.server.events.base import typed
from gameops.server.metrics import Metrics
from gameops.server.realtime.sockets import bearer_or_query_token, refuse
from gameops.server.settings import Settings
from gameops.server.users.events import UserTokensRevoked

router = APIRouter()


@dataclass(frozen=True)
class FeedServices:
    """What the dashboard feed uses; built once by the composition root."""

    settings: Settings
    database: Database
    bus: EventBus
    token_secret: str
    metrics: Metrics


TRY_AGAIN_LATER = 1013
FEED_BACKLOG = 1000


@router.websocket("/ws/dashboard")
async def dashboard_socket(websocket: WebSocket) -> None:
    services: FeedServices = websocket.app.state.feed_services
    await websocket.accept()
    token = bearer_or_query_token(websocket) or await _token_message(websocket, services)
    if token is None:
        return
    user_id = await _staff_id(services, token)
    if user_id is None:
        await refuse(websocket, CloseCode.AUTH_FAILED, "a valid staff access token is required")
        return
    subscription = services.bus.subscribe(EVENTS, maxsize=FEED_BACKLOG)
    # The user's tokens revoked (password, role, disabled): this feed ends too.
    revocations = services.bus.subscribe(DOMAIN)
    revoked = asyncio.create_task(_revoked(revocations, user_id))
    revoked.add_done_callback(lambda _: subscription.end())
    services.metrics.websockets.labels("dashboard").inc()
    count = services.metrics.count_message
    try:
        async with services.database.sessionmaker() as db:
            last_id = await db.scalar(select(func.max(Event.id)))
        await websocket.send_json({"type": "hello", "last_event_id": last_id or 0})
        count("dashboard", "out", "hello")
        await _pump(websocket, subscription, lambda: count("dashboard", "out", "event"))
        if revoked.done() and not revoked.cancelled():
            await refuse(websocket, CloseCode.AUTH_FAILED, "login revoked; log in again")
    finally:
        services.metrics.websockets.labels("dashboard").dec()
        revoked.cancel()
        services.bus.unsubscribe(revocations)
        services.bus.unsubscribe(subscription)


async def _revoked(revocations: Subscription, user_id: uuid.UUID) -> None:
    """Returns when ``user_id``'s tokens are revoked."""
    async for event in typed(revocations, [UserTokensRevoked]):
        if event.user_id == user_id:
            return


async def _pump(
    websocket: WebSocket, subscription: Subscription, count_sent: Callable[[], None]
) -> None:
    """Forward events until the client leaves; read concurrently to notice it leaving."""
    reader = asyncio.create_task(_drain(websocket))
    # When the client leaves, end the wait for the next event too: a quiet bus must not keep
    # this handler (and so a server shutdown) waiting.
    reader.add_done_callback(lambda _: subscription.end())
    try:
        async for event in subscription:
            if reader.done():
                return
            await websocket.send_text(json.dumps({"type": "event", "event": event}))
            count_sent()
        if subscription.overflowed:
            await refuse(websocket, CloseCode(TRY_AGAIN_LATER), "feed overflow; resync")
    except Exception:  # the client went away while we were sending
        return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _drain(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _token_message(websocket: WebSocket, services: FeedServices) -> str | None:
    timeout = services.settings.agent_auth_timeout_seconds
    try:
        message = await asyncio.wait_for(websocket.receive_json(), timeout)
    except TimeoutError:
        await refuse(websocket, CloseCode.AUTH_TIMEOUT, f"no authentication within {timeout:g} s")
        return None
    except Exception:
        await refuse(websocket, CloseCode.AUTH_FAILED, 'send {"type": "auth", "token": ...}')
        return None
    token = message.get("token") if isinstance(message, dict) else None
    if not isinstance(token, str) or message.get("type") != "auth":
        await refuse(websocket, CloseCode.AUTH_FAILED, 'send {"type": "auth", "token": ...}')
        return None
    return token


async def _staff_id(services: FeedServices, token: str) -> uuid.UUID | None:
    """The user's id if the token is a valid staff access token."""
    try:
        async with services.database.sessionmaker() as db:
            user = await user_from_access_token(services.token_secret, db, token)
    except GameOpsError:
        return None
    return user.id if user.role.is_staff else None
