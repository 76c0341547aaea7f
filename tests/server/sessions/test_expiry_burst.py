"""A burst of sessions ending together (a tournament round) is expired in batches: every
one exactly once, every station freed, every agent told."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gameops.protocol import SessionExpired, SessionStart, utc_now
from gameops.server.sessions import expiry
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.sessions import set_scheduled_end, start_session
from tests.support.waiting import eventually

STATIONS = 40


async def test_a_burst_of_expiries_ends_each_session_once(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expiry, "BATCH", 7)  # 40 due at once: six batches, the last one short
    stations = [await create_station_with_token(admin) for _ in range(STATIONS)]
    agents = [
        await ScriptedAgent.connect(live_server.ws_url, station_id, token)
        for station_id, token in stations
    ]
    sessions = [await start_session(admin, station_id) for station_id, _ in stations]
    for agent in agents:
        await agent.expect(SessionStart)
    end_at = utc_now()
    for session in sessions:
        await set_scheduled_end(live_server.settings.database_url, str(session["id"]), end_at)
    scheduler = live_server.services.expiry
    for session in sessions:  # all due at the same instant
        scheduler.arm(uuid.UUID(str(session["id"])), end_at)

    await asyncio.gather(*(agent.expect(SessionExpired, timeout=30) for agent in agents))

    async def statuses() -> list[str]:
        found = [await admin.get(f"/api/v1/sessions/{s['id']}") for s in sessions]
        return [response.json()["status"] for response in found]

    await eventually(statuses, lambda got: set(got) == {"EXPIRED"}, timeout=10)
    events = (await admin.get("/api/v1/events", params={"per_page": 500})).json()["items"]
    expired = [e["session_id"] for e in events if e["type"] == "SESSION_EXPIRED"]
    assert sorted(expired) == sorted(str(s["id"]) for s in sessions)
    floor = [await admin.get(f"/api/v1/stations/{station_id}") for station_id, _ in stations]
    assert {station.json()["status"] for station in floor} == {"ONLINE"}
    for agent in agents:
        await agent.close()


async def test_sessions_ending_within_a_tick_are_expired_together(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timers fire on a grid: five sessions ending within 0.4 s fall in at most two ticks of
    a second, so they cost at most two transactions (one timer each: five)."""
    monkeypatch.setattr(expiry, "TICK_SECONDS", 1.0)
    batches: list[int] = []
    expire_due = expiry.service.expire_due

    async def counted(db: Any, session_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        batches.append(len(session_ids))
        return await expire_due(db, session_ids)

    monkeypatch.setattr(expiry.service, "expire_due", counted)
    stations = [await create_station_with_token(admin) for _ in range(5)]
    agents = [await ScriptedAgent.connect(live_server.ws_url, s, t) for s, t in stations]
    sessions = [await start_session(admin, station_id) for station_id, _ in stations]
    for agent in agents:
        await agent.expect(SessionStart)
    first_end = utc_now() + timedelta(seconds=1)
    for n, session in enumerate(sessions):
        end_at = first_end + timedelta(seconds=0.1 * n)
        await set_scheduled_end(live_server.settings.database_url, str(session["id"]), end_at)
        live_server.services.expiry.arm(uuid.UUID(str(session["id"])), end_at)

    await asyncio.gather(*(agent.expect(SessionExpired, timeout=10) for agent in agents))
    assert sum(batches) == 5 and len(batches) <= 2, batches
    for agent in agents:
        await agent.close()
