"""Request ids, HTTP latency, ``/metrics``, and the metrics that follow domain events.

Every HTTP request and WebSocket gets a request id: the caller's ``X-Request-ID`` when it is
a sane one, else a new one. It is bound into every log line written while the request runs
(structlog's contextvars) and sent back in ``X-Request-ID``. Agent messages use their own
message id the same way (``realtime/agent_ws.py``).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gameops.server.db.engine import after_commit
from gameops.server.errors import NotFound, Unauthorized
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.metrics import CONTENT_TYPE, Metrics
from gameops.server.payments.events import PaymentChanged
from gameops.server.sessions import repository as sessions
from gameops.server.sessions.events import SessionExpired

log = structlog.get_logger(__name__)
REQUEST_ID = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContext:
    """ASGI middleware: the request id, and each HTTP request's latency by route template
    (``/api/v1/stations/{station_id}``, never the raw path: one series per route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        status, began = 500, time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["type"] == "http":
                    _observe(scope, status, time.perf_counter() - began)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _observe(scope: Scope, status: int, seconds: float) -> None:
    services: Any = getattr(scope["app"].state, "services", None)
    if services is None:  # before start-up finished
        return
    route = route_template(scope)
    services.metrics.http_latency.labels(scope["method"], route, str(status)).observe(seconds)


def route_template(scope: Scope) -> str:
    """``/api/v1/stations/{station_id}`` for ``/api/v1/stations/3f2c...``: the path with each
    path parameter's value put back as its name. "unmatched" when no route took it."""
    if scope.get("route") is None:
        return "unmatched"
    path: str = scope["path"]
    for name, value in scope.get("path_params", {}).items():
        text = "/" + str(value)
        at = path.rfind(text)
        if str(value) and at >= 0:
            path = f"{path[:at]}/{{{name}}}{path[at + len(text) :]}"
    return path


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics, for a scraper holding ``GAMEOPS_METRICS_TOKEN`` as its bearer
    token; 404 while no token is configured, 401 without the right one."""
    state = request.app.state
    token = state.settings.metrics_token
    if token is None:
        raise NotFound("Not Found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), token.get_secret_value().encode()
    ):
        raise Unauthorized("A valid scrape token is required")
    services = state.services
    try:
        async with services.database.sessionmaker() as db:
            services.metrics.active_sessions.set(await sessions.count_active(db))
    except Exception as err:  # the database is down: the other metrics still say so
        log.warning("metrics: could not count active sessions", error=repr(err)[:200])
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)


def count_domain_events(dispatcher: EventDispatcher, metrics: Metrics) -> None:
    """Expiry lag and payment outcomes, counted when their transaction has committed."""

    async def on_expired(db: AsyncSession, event: SessionExpired) -> None:
        lag = max(0.0, (event.ended_at - event.scheduled_end_at).total_seconds())

        async def observe() -> None:
            metrics.expiry_lag.observe(lag)

        after_commit(db, observe)

    async def on_payment(db: AsyncSession, event: PaymentChanged) -> None:
        async def count() -> None:
            metrics.payments.labels(event.method.value, event.status.value).inc()

        after_commit(db, count)

    dispatcher.handle(SessionExpired, on_expired)
    dispatcher.handle(PaymentChanged, on_payment)
