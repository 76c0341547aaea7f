"""A PC's paid time starts when its agent takes the session, not at the sale; a sale the PC
does not take in time prompts staff, and can be moved to another PC or given back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from gameops.protocol import Ack, SessionStart, SyncRequest, SyncResponse, utc_now
from gameops.server.db.engine import create_engine
from gameops.server.db.models import GameSession
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, events_of
from tests.support.sessions import rewrite_session
from tests.support.waiting import eventually


async def _sold_ago(database_url: str, session_id: str, ago: timedelta) -> None:
    """As if the sale had been made ``ago`` (and was waiting since)."""
    then = utc_now() - ago
    end = then + timedelta(hours=1)
    await rewrite_session(
        database_url, session_id, started_at=then, scheduled_end_at=end, waiting_since=then
    )


async def _sell(staff: httpx.AsyncClient, station_id: str, method: str = "CASH") -> dict[str, Any]:
    body = {"station_id": station_id, "duration_minutes": 60, "payment_method": method}
    response = await staff.post(f"{API}/sessions/start", json=body)
    assert response.status_code == 201, response.text
    sale: dict[str, Any] = response.json()
    return sale


async def _session(staff: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await staff.get(f"{API}/sessions/{session_id}")).json()
    return body


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


async def test_time_sold_on_an_offline_pc_starts_when_it_connects(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station("PC-OFF")
    sale = await _sell(admin, station_id)
    assert sale["waiting_since"] is not None and sale["agent_connected"] is False
    assert sale["remaining_seconds"] == 3600
    assert "starts when it connects" in sale["warnings"][0]
    floor = (await admin.get(f"{API}/floor")).json()
    [card] = [s for s in floor["stations"] if s["id"] == station_id]
    assert card["session"]["waiting_since"] is not None
    assert card["session"]["remaining_seconds"] == 3600

    # Ten minutes later the PC boots; none of those minutes are charged.
    await _sold_ago(live_server.settings.database_url, sale["id"], timedelta(minutes=10))
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(SyncRequest())
    synced = await agent.expect(SyncResponse)
    assert synced.session is not None
    assert synced.session.scheduled_end_at > utc_now() + timedelta(minutes=59)
    session = await _session(admin, sale["id"])
    assert session["waiting_since"] is None
    assert _at(session["scheduled_end_at"]) == synced.session.scheduled_end_at
    # The clock runs from the connection (the sale was moved ten minutes back).
    assert _at(session["started_at"]) >= _at(sale["started_at"])
    assert _at(session["scheduled_end_at"]) - _at(session["started_at"]) == timedelta(hours=1)
    [started] = await events_of(admin, "SESSION_CLOCK_STARTED")
    assert started["data"]["waited_seconds"] >= 600
    await agent.close()


async def test_a_pc_that_takes_the_sale_at_once_keeps_its_times(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    sale = await _sell(admin, station_id)
    start = await agent.expect(SessionStart)  # acked by the scripted agent
    session = await eventually(
        lambda: _session(admin, sale["id"]), lambda s: s["waiting_since"] is None
    )
    assert session["scheduled_end_at"] == sale["scheduled_end_at"]
    assert start.scheduled_end_at == _at(sale["scheduled_end_at"])
    await agent.close()


async def test_a_late_ack_restarts_the_clock_and_corrects_the_agent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token, auto_ack=False)
    sale = await _sell(admin, station_id)
    message_id, start = await agent.next()
    assert isinstance(start, SessionStart)
    await _sold_ago(live_server.settings.database_url, sale["id"], timedelta(minutes=3))
    await agent.send(Ack(id=message_id))
    corrected = await agent.expect(SyncResponse)
    assert corrected.session is not None
    assert corrected.session.scheduled_end_at > utc_now() + timedelta(minutes=59)
    session = await _session(admin, sale["id"])
    assert _at(session["scheduled_end_at"]) == corrected.session.scheduled_end_at
    await agent.close()


@pytest.mark.parametrize("backend", ["postgres"])  # row locks: SQLite has one writer
async def test_the_clock_start_keeps_an_extension_made_meanwhile(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """The PC connects while an extension of its waiting sale is being written: the clock's
    start waits for it and runs for the extended time (it overwrote the end before)."""
    station_id, token = await live_server.create_pc_station("PC-LATE")
    sale = await _sell(admin, station_id)
    url = live_server.settings.database_url
    await _sold_ago(url, sale["id"], timedelta(minutes=10))  # the clock restarts on connect
    engine = create_engine(url)
    try:
        async with engine.connect() as extension:
            async with extension.begin():
                await extension.execute(
                    update(GameSession)
                    .where(GameSession.id == uuid.UUID(sale["id"]))
                    .values(extended_minutes=30)
                )
                agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
                await agent.send(SyncRequest())
                await eventually(lambda: _lock_waits(engine), lambda waits: waits > 0)
            synced = await agent.expect(SyncResponse)
    finally:
        await engine.dispose()
    assert synced.session is not None
    assert synced.session.scheduled_end_at > utc_now() + timedelta(minutes=89)
    session = await _session(admin, sale["id"])
    assert _at(session["scheduled_end_at"]) == synced.session.scheduled_end_at
    await agent.close()


async def _lock_waits(engine: Any) -> int:
    async with engine.connect() as connection:
        waits = await connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return int(waits)


@pytest.fixture
async def impatient(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = server_settings(
        database_url,
        tmp_path / "data",
        agent_start_wait_minutes=0.01,  # 0.6 s
        require_open_shift=True,
    )
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def test_staff_are_told_and_can_move_or_give_back_the_sale(impatient: LiveServer) -> None:
    staff = await impatient.admin_client()
    assert (await staff.post(f"{API}/shifts", json={"count": {"5000": 1}})).status_code == 201
    dead, _ = await impatient.create_pc_station("PC-DEAD")
    alive, token = await impatient.create_pc_station("PC-ALIVE")
    sale = await _sell(staff, dead)

    [overdue] = await eventually(
        lambda: events_of(staff, "SESSION_START_OVERDUE"), lambda events: len(events) == 1
    )
    assert overdue["session_id"] == sale["id"]
    floor = (await staff.get(f"{API}/floor")).json()
    [card] = [s for s in floor["stations"] if s["id"] == dead]
    assert card["session"]["start_overdue"] is True

    agent = await ScriptedAgent.connect(impatient.ws_url, alive, token)
    moved = await staff.post(f"{API}/sessions/{sale['id']}/move", json={"station_id": alive})
    assert moved.status_code == 200, moved.text
    assert moved.json()["station_id"] == alive
    start = await agent.expect(SessionStart)
    assert str(start.id) == sale["id"]
    await eventually(lambda: _session(staff, sale["id"]), lambda s: s["waiting_since"] is None)
    stations = {s["id"]: s for s in (await staff.get(f"{API}/floor")).json()["stations"]}
    assert stations[dead]["session"] is None
    assert stations[alive]["session"]["id"] == sale["id"]
    # Running now: it can no longer be moved or given back whole.
    again = await staff.post(f"{API}/sessions/{sale['id']}/void")
    assert again.status_code == 409
    await agent.close()

    other = await _sell(staff, dead)
    voided = await staff.post(f"{API}/sessions/{other['id']}/void")
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["status"], body["end_reason"]) == ("STOPPED", "voided")
    assert (body["refunded"], body["refund_way"]) == (600, "cash")
    shift = (await staff.get(f"{API}/shifts/current")).json()
    report = (await staff.get(f"{API}/shifts/{shift['id']}/report")).json()
    assert report["voids"] == 1 and report["refunds"] == {"CASH": 600}
    assert report["cash_in"] - report["cash_out"] == 600  # the moved sale stays paid
