"""``/health``: for load balancers and for people looking at an incident."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gameops import __version__
from gameops.server.bus import EventBus
from gameops.server.db.engine import Database
from gameops.server.outbox import store
from gameops.server.outbox.relay import OutboxRelay

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """200 when the database and the bus answer, else 503 naming the failing part; with the
    outbox's backlog (messages committed but not yet on the bus) and how long it waited."""
    state = request.app.state
    database: Database = state.database
    bus: EventBus = state.bus
    relay: OutboxRelay = state.relay
    report: dict[str, Any] = {}
    try:
        async with database.sessionmaker() as db:
            await db.execute(text("SELECT 1"))
            waiting, _ = await store.oldest_unsent(db)
        report["database"] = "ok"
    except Exception as err:
        report["database"] = f"error: {type(err).__name__}"
        waiting = None
    try:
        await bus.ping()
        report["bus"] = "ok"
    except Exception as err:
        report["bus"] = f"error: {type(err).__name__}"
    healthy = all(value == "ok" for value in report.values())
    report["outbox"] = {
        "waiting": waiting,
        "lag_seconds": round(relay.lag_seconds(), 3),
        "publish_failures": relay.publish_failures,
    }
    body = {"status": "healthy" if healthy else "unhealthy", "version": __version__, **report}
    return JSONResponse(body, status_code=200 if healthy else 503)
