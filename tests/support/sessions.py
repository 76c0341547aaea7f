"""Helpers to drive sessions in tests without waiting real minutes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from gameops.protocol import utc_now
from gameops.server.db.engine import create_engine
from gameops.server.db.models import GameSession
from tests.support.live_server import LiveServer


async def start_session(
    admin: httpx.AsyncClient, station_id: str, minutes: int = 60, **extra: object
) -> dict[str, object]:
    response = await admin.post(
        "/api/v1/sessions/start",
        json={"station_id": station_id, "duration_minutes": minutes, **extra},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def rewrite_session(database_url: str, session_id: str, **values: Any) -> None:
    """Write ``values`` into a session's row behind the server's back (as if time had gone by)."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(GameSession).where(GameSession.id == uuid.UUID(session_id)).values(**values)
            )
    finally:
        await engine.dispose()


async def set_scheduled_end(database_url: str, session_id: str, end_at: datetime) -> None:
    """Move a session's end in the database (as if it had been sold for less time), its
    clock running (as if its PC had taken it)."""
    await rewrite_session(database_url, session_id, scheduled_end_at=end_at, waiting_since=None)


async def end_soon(server: LiveServer, session_id: str, seconds: float) -> datetime:
    """Make a running session end ``seconds`` from now and re-arm the server's timer."""
    end_at = utc_now() + timedelta(seconds=seconds)
    await set_scheduled_end(server.settings.database_url, session_id, end_at)
    server.services.expiry.arm(uuid.UUID(session_id), end_at)
    return end_at
