"""Heartbeats are answered at once and written in batches: one transaction per flush for
every agent that beat, never one per heartbeat; nothing that reads last_seen is misled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from gameops.protocol import (
    Heartbeat,
    HeartbeatAck,
    SessionEnd,
    SessionStart,
    SyncResponse,
    utc_now,
)
from gameops.server.db.engine import Database, create_engine
from gameops.server.db.models import Station
from gameops.server.realtime.heartbeats import Beat, HeartbeatBatcher, StationView, disagrees
from gameops.server.settings import Settings
from tests.support.agent_client import ScriptedAgent
from tests.support.databases import PG_HOST, PG_PORT
from tests.support.live_server import LiveServer, production_logging, server_settings
from tests.support.proxy import TcpProxy
from tests.support.sessions import start_session
from tests.support.waiting import eventually


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No flush by the timer while a test looks: the test flushes (or stops the server).
    return server_settings(
        database_url,
        tmp_path / "data",
        heartbeat_interval_seconds=600,
        heartbeat_flush_seconds=300,
    )


async def _row(server: LiveServer, station_id: str) -> Station:
    async with server.services.database.sessionmaker() as db:
        station = await db.get(Station, uuid.UUID(station_id))
        assert station is not None
        return station


def test_a_heartbeat_disagrees_when_the_session_or_the_lock_differ() -> None:
    session = uuid.uuid4()
    beat = Beat(uuid.uuid4(), utc_now(), {}, session, tamper_locked=False)
    assert not disagrees(beat, StationView(session, tamper_locked=False))
    assert disagrees(beat, StationView(None, tamper_locked=False))  # it missed the stop
    assert disagrees(beat, StationView(uuid.uuid4(), tamper_locked=False))
    assert disagrees(beat, StationView(session, tamper_locked=True))  # it forgot the lock


def test_a_session_changed_after_the_beat_is_news_on_its_way_not_a_lost_command() -> None:
    session, at = uuid.uuid4(), utc_now()
    beat = Beat(uuid.uuid4(), at, {}, session, tamper_locked=False)
    after, before = at + timedelta(seconds=1), at - timedelta(seconds=1)
    assert not disagrees(beat, StationView(None, False, session_changed_at=after))
    assert disagrees(beat, StationView(None, False, session_changed_at=before))
    assert disagrees(beat, StationView(session, True, session_changed_at=after))  # the lock


async def test_many_agents_heartbeats_are_written_in_one_transaction(
    live_server: LiveServer,
) -> None:
    agents = []
    for _ in range(3):
        station_id, token = await live_server.create_pc_station()
        agents.append(
            (station_id, await ScriptedAgent.connect(live_server.ws_url, station_id, token))
        )
    batcher = live_server.services.heartbeats
    flushes = batcher.flushes
    before = utc_now()
    for n, (_, agent) in enumerate(agents):
        await agent.send(Heartbeat(cpu=10 + n, ram=50))
        await agent.send(Heartbeat(cpu=20 + n, ram=60))  # only the latest is kept
        await agent.expect(HeartbeatAck)
        await agent.expect(HeartbeatAck)  # answered without waiting for the write
    assert batcher.pending == 3
    assert (await _row(live_server, agents[0][0])).metrics == {}  # not written yet

    await batcher.flush()

    assert batcher.flushes == flushes + 1 and batcher.pending == 0
    for n, (station_id, agent) in enumerate(agents):
        station = await _row(live_server, station_id)
        assert station.metrics["cpu"] == 20 + n and station.metrics["ram"] == 60
        assert station.last_seen_at is not None and before <= station.last_seen_at <= utc_now()
        await agent.close()


async def test_a_beat_older_than_the_rows_last_seen_leaves_the_row_alone(
    live_server: LiveServer,
) -> None:
    station_id, _ = await live_server.create_pc_station()
    clock = [utc_now() - timedelta(minutes=1)]
    database = live_server.services.database

    async def no_corrections(station_id: uuid.UUID, beat: Beat) -> None:
        raise AssertionError("nothing to correct")

    batcher = HeartbeatBatcher(database, 300, no_corrections, clock=lambda: clock[0])
    reconnected_at = utc_now()  # the agent reconnected since the beat: mark_connected's time
    async with database.transaction() as db:
        station = await db.get(Station, uuid.UUID(station_id))
        assert station is not None
        station.last_seen_at, station.metrics = reconnected_at, {"cpu": 1}
    batcher.note(uuid.UUID(station_id), uuid.uuid4(), Heartbeat(cpu=99, ram=1))
    await batcher.flush(correct=False)
    station = await _row(live_server, station_id)
    assert station.last_seen_at == reconnected_at and station.metrics == {"cpu": 1}

    clock[0] = utc_now() + timedelta(seconds=1)  # a newer beat is written
    batcher.note(uuid.UUID(station_id), uuid.uuid4(), Heartbeat(cpu=42, ram=1))
    await batcher.flush(correct=False)
    station = await _row(live_server, station_id)
    assert station.last_seen_at == clock[0] and station.metrics["cpu"] == 42


async def test_an_agent_that_missed_its_session_is_corrected_after_the_flush(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    session = await start_session(admin, station_id)
    missed = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    other_id, other_token = await live_server.create_pc_station()
    in_step = await ScriptedAgent.connect(live_server.ws_url, other_id, other_token)
    other_session = await start_session(admin, other_id)
    await in_step.expect(SessionStart)

    await missed.send(Heartbeat(cpu=1, ram=1))  # it believes no session runs
    await in_step.send(Heartbeat(cpu=1, ram=1, active_session_id=other_session["id"]))
    await missed.expect(HeartbeatAck)
    await in_step.expect(HeartbeatAck)
    await live_server.services.heartbeats.flush()

    correction = await missed.expect(SyncResponse)
    assert str(correction.session.id) == session["id"]
    with pytest.raises(TimeoutError):  # the agent that agreed hears nothing more
        await in_step.next(timeout=0.5)
    await missed.close()
    await in_step.close()


async def test_an_agent_whose_session_ended_after_its_beat_is_not_corrected(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    session = await start_session(admin, station_id)
    await agent.expect(SessionStart)
    await agent.send(Heartbeat(cpu=1, ram=1, active_session_id=session["id"]))
    await agent.expect(HeartbeatAck)
    assert (await admin.delete(f"/api/v1/sessions/{session['id']}")).status_code == 200
    await agent.expect(SessionEnd)  # the stop's own command
    await live_server.services.heartbeats.flush()
    with pytest.raises(TimeoutError):  # no correction: the beat was older than the stop
        await agent.next(timeout=0.5)
    await agent.close()


async def test_the_last_beats_are_written_when_the_server_stops(live_server: LiveServer) -> None:
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Heartbeat(cpu=77, ram=1))
    await agent.expect(HeartbeatAck)
    database_url = live_server.settings.database_url
    await live_server.stop()  # the timer would have waited 300 s
    await agent.close()

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            metrics: Any = await connection.scalar(
                Station.__table__.select()
                .with_only_columns(Station.__table__.c.metrics)
                .where(Station.__table__.c.id == uuid.UUID(station_id))
            )
    finally:
        await engine.dispose()
    assert metrics["cpu"] == 77


async def test_a_beating_agent_is_never_swept_offline_while_its_beats_wait(
    database_url: str, tmp_path: Path
) -> None:
    # Short clocks: silent 4 s closes a connection, 8 s unheard sweeps a row (the sweep runs
    # every 4 s); beats are flushed every 2 s.
    settings = server_settings(
        database_url, tmp_path / "data", heartbeat_interval_seconds=4, heartbeat_misses_allowed=1
    )
    server = LiveServer(settings)
    await server.start()
    try:
        station_id, token = await server.create_pc_station()
        agent = await ScriptedAgent.connect(server.ws_url, station_id, token)
        beating = asyncio.create_task(_beat(agent, every=0.5))
        admin = await server.admin_client()
        loop = asyncio.get_running_loop()
        until = loop.time() + 12  # three sweeps
        seen: list[datetime] = []
        while loop.time() < until:
            station = await _station_json(admin, station_id)
            assert station["agent_connected"] is True and station["status"] == "ONLINE"
            seen.append(datetime.fromisoformat(station["last_seen_at"]))
            await asyncio.sleep(0.2)
        assert seen[-1] > seen[0]  # the flushes kept last_seen moving
        beating.cancel()
        # Gone silent: offline as before.
        await eventually(
            lambda: _station_json(admin, station_id),
            lambda s: s["agent_connected"] is False,
            timeout=15,
        )
        await agent.close()
    finally:
        await server.close()


async def _beat(agent: ScriptedAgent, every: float) -> None:
    while True:
        await agent.send(Heartbeat(cpu=1, ram=1))
        await agent.expect(HeartbeatAck)
        await asyncio.sleep(every)


async def _station_json(admin: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return found


@pytest.mark.parametrize("backend", ["postgres"])  # the outage: a cut TCP connection
async def test_beats_whose_flush_failed_wait_for_the_next_one(
    live_server: LiveServer, backend: str, database_url: str
) -> None:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    await proxy.start()
    url = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    database = Database(create_engine(url))

    async def no_corrections(station_id: uuid.UUID, beat: Beat) -> None:
        raise AssertionError("nothing to correct")

    batcher = HeartbeatBatcher(database, 300, no_corrections)
    first, second = [uuid.UUID((await live_server.create_pc_station())[0]) for _ in range(2)]
    try:
        batcher.note(first, uuid.uuid4(), Heartbeat(cpu=5, ram=1))
        batcher.note(second, uuid.uuid4(), Heartbeat(cpu=7, ram=1))
        await proxy.cut()
        with production_logging():
            await batcher.flush(correct=False)  # the database is unreachable
        assert batcher.pending == 2 and batcher.flushes == 0
        batcher.note(first, uuid.uuid4(), Heartbeat(cpu=6, ram=1))  # newer than the kept one
        proxy.restore()
        await batcher.flush(correct=False)
        assert batcher.pending == 0 and batcher.flushes == 1
        assert (await _row(live_server, str(first))).metrics["cpu"] == 6
        assert (await _row(live_server, str(second))).metrics["cpu"] == 7
    finally:
        await database.dispose()
        await proxy.close()
