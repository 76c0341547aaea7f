"""Agents' connects, hellos and disconnects are written many to a transaction: a storm of
handshakes costs a few commits, not one per agent, and each agent is still online,
audited and answered as before; a flush the database fails writes nothing, and its agents
are told to come back (1013) and do."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from gameops.protocol import AgentHello, CloseCode, ServerHello, StationInfo, utc_now
from gameops.protocol.close_codes import retry_after
from gameops.server.db.models import Event, Station
from gameops.server.events.domain import EventType
from gameops.server.realtime.agent_handlers import login_view
from gameops.server.realtime.presence_writes import PresenceWriter
from gameops.server.stations.events import StationStatusChanged
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.waiting import eventually

AGENTS = 24


async def _stations(admin: httpx.AsyncClient, count: int) -> list[tuple[str, str]]:
    return [await create_station_with_token(admin) for _ in range(count)]


@contextmanager
def _counting_commits(server: LiveServer) -> Iterator[list[int]]:
    """How many transactions commit on the server's engine meanwhile (``[n]``)."""
    commits = [0]

    def count(_: Any) -> None:
        commits[0] += 1

    engine = server.services.database.engine.sync_engine
    event.listen(engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", count)


async def _events(server: LiveServer, kind: EventType, station_ids: list[str]) -> dict[str, int]:
    """How many ``kind`` audit rows each station has."""
    ids = [uuid.UUID(s) for s in station_ids]
    query = (
        select(Event.station_id, func.count())
        .where(Event.type == kind, Event.station_id.in_(ids))
        .group_by(Event.station_id)
    )
    async with server.services.database.sessionmaker() as db:
        counts = {str(sid): n for sid, n in (await db.execute(query)).all()}
    return {s: counts.get(s, 0) for s in station_ids}


async def _online(admin: httpx.AsyncClient, station_ids: list[str]) -> set[str]:
    online = set()
    for station_id in station_ids:
        station = (await admin.get(f"/api/v1/stations/{station_id}")).json()
        if station["agent_connected"] and station["status"] == "ONLINE":
            online.add(station_id)
    return online


async def test_a_storm_of_agents_is_written_in_a_few_transactions(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    stations = await _stations(admin, AGENTS)
    ids = [station_id for station_id, _ in stations]
    writer = live_server.services.presence
    flushes = writer.flushes
    tokens = live_server.app_state.agent_services.tokens
    queries = tokens.queries
    with _counting_commits(live_server) as commits:
        agents = await asyncio.gather(
            *(ScriptedAgent.connect(live_server.ws_url, s, t) for s, t in stations)
        )
        for agent in agents:  # every agent's hello is answered with its login view
            await agent.say_hello()
        for agent in agents:
            await agent.expect(StationInfo)
        during = commits[0]

    # One commit per agent before (its connect) and one more for its hello; the relay's
    # own commits (marking what it sent) are counted too.
    assert during < AGENTS, f"{during} commits for {AGENTS} agents' connects and hellos"
    assert writer.flushes - flushes < AGENTS
    assert tokens.queries - queries < AGENTS  # the token checks were batched too
    assert await _online(admin, ids) == set(ids)  # as the dashboards see them
    assert set((await _events(live_server, EventType.AGENT_CONNECTED, ids)).values()) == {1}
    changed = await _events(live_server, EventType.STATION_STATUS_CHANGED, ids)
    assert set(changed.values()) == {1}  # OFFLINE -> ONLINE, audited for each
    async with live_server.services.database.sessionmaker() as db:
        versions = await db.scalars(
            select(Station.agent_version).where(Station.id.in_([uuid.UUID(s) for s in ids]))
        )
        assert set(versions) == {"test-1"}  # every hello was written

    for agent in agents:
        await agent.close()
    await eventually(lambda: _online(admin, ids), lambda online: not online, timeout=30)
    left = await _events(live_server, EventType.AGENT_DISCONNECTED, ids)
    assert set(left.values()) == {1}


async def test_writes_queued_together_share_one_transaction_in_their_order(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    stations = await _stations(admin, 3)
    ids = [uuid.UUID(station_id) for station_id, _ in stations]
    services = live_server.services
    writer = PresenceWriter(services.database, login_view(services.play_desk.rules), chunk=2)
    first, second = uuid.uuid4(), uuid.uuid4()
    hello = AgentHello(agent_version="v9", os="TestOS", specs={})
    at = utc_now()
    results = await asyncio.gather(
        writer.connected(ids[0], first, at),
        writer.disconnected(ids[0], first, "gone"),
        writer.connected(ids[0], second, at + timedelta(seconds=1)),  # the reconnect wins
        writer.connected(ids[1], uuid.uuid4(), at),
        writer.hello(ids[1], hello),
        writer.disconnected(ids[2], uuid.uuid4(), "never connected"),
    )
    assert writer.flushes == 3 and writer.written == 6  # chunks of two, queued at once
    assert results[0] is True and results[1] is True and results[5] is False
    assert isinstance(results[4], StationInfo)
    async with services.database.sessionmaker() as db:
        rows = {s.id: s for s in await db.scalars(select(Station).where(Station.id.in_(ids)))}
    assert rows[ids[0]].agent_connected and rows[ids[0]].agent_connection_id == second
    assert rows[ids[1]].agent_connected and rows[ids[1]].agent_version == "v9"
    assert not rows[ids[2]].agent_connected


async def test_a_connect_accepted_before_the_current_connection_writes_nothing(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """A handshake that finishes after a newer connection's (in the same flush or a later
    one) is superseded: the row keeps naming the newer connection, with no audit line."""
    ids = [uuid.UUID(station_id) for station_id, _ in await _stations(admin, 2)]
    writer = live_server.services.presence
    newer, stale, at = uuid.uuid4(), uuid.uuid4(), utc_now()
    assert await writer.connected(ids[0], newer, at) is True
    assert await writer.connected(ids[0], stale, at - timedelta(seconds=3)) is False
    in_one_flush = await asyncio.gather(
        writer.connected(ids[1], newer, at), writer.connected(ids[1], stale, at - timedelta(0, 3))
    )
    assert in_one_flush == [True, False]
    async with live_server.services.database.sessionmaker() as db:
        rows = await db.scalars(select(Station).where(Station.id.in_(ids)))
        assert {(row.agent_connection_id, row.agent_connected_since) for row in rows} == {
            (newer, at)
        }
    connects = await _events(live_server, EventType.AGENT_CONNECTED, [str(i) for i in ids])
    assert set(connects.values()) == {1}
    # Once the newer one is gone, the station is free for whichever connects next.
    assert await writer.disconnected(ids[0], newer, "gone") is True
    assert await writer.connected(ids[0], stale, at - timedelta(seconds=3)) is True


def _fail_the_next_flushes(live_server: LiveServer, times: int) -> list[int]:
    """The next ``times`` transactions that bring a station online fail in the database
    (a statement on a table that is not there), after their UPDATEs went out."""
    left = [times]

    async def fail(db: AsyncSession, _: StationStatusChanged) -> None:
        if left[0] > 0:
            left[0] -= 1
            await db.execute(text("SELECT * FROM no_such_table"))

    live_server.services.dispatcher.handle(StationStatusChanged, fail)
    return left


async def _handshake(ws_url: str, station_id: str, token: str) -> float | None:
    """None if the agent was let in; else the delay its 1013 close asked for."""
    url = f"{ws_url}/ws/agent/{station_id}"
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        try:
            frame = await asyncio.wait_for(ws.recv(), 30)
        except ConnectionClosed as closed:
            refusal = closed.rcvd
        else:
            assert ServerHello.TYPE in str(frame)
            return None
    assert refusal is not None and refusal.code == CloseCode.TRY_AGAIN_LATER
    return retry_after(refusal.reason)


async def test_a_flush_the_database_fails_writes_nothing_and_its_agents_come_back(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    stations = await _stations(admin, 6)
    ids = [station_id for station_id, _ in stations]
    left = _fail_the_next_flushes(live_server, times=1)

    outcomes = await asyncio.gather(*(_handshake(live_server.ws_url, s, t) for s, t in stations))

    refused = [station for station, delay in zip(stations, outcomes, strict=True) if delay]
    assert left == [0] and refused  # the failed flush's agents were told to come back...
    assert all(1.0 <= (delay or 0) <= 30 for delay in outcomes if delay is not None)
    refused_ids = [station_id for station_id, _ in refused]
    # ...and nothing of it was written: no row online, no audit line.
    connected = await _events(live_server, EventType.AGENT_CONNECTED, refused_ids)
    assert set(connected.values()) == {0}
    async with live_server.services.database.sessionmaker() as db:
        rows = await db.scalars(
            select(Station).where(Station.id.in_([uuid.UUID(s) for s in refused_ids]))
        )
        assert not any(row.agent_connected or row.last_seen_at for row in rows)

    # They come back after the delay they were given, as an agent does, and get in.
    delay = max(d for d in outcomes if d is not None)
    await asyncio.sleep(delay)  # the agent's own wait, not a wait for the server
    agents = [await ScriptedAgent.connect(live_server.ws_url, s, t) for s, t in refused]
    online = await _online(admin, ids)
    assert set(refused_ids) <= online
    connected = await _events(live_server, EventType.AGENT_CONNECTED, refused_ids)
    assert set(connected.values()) == {1}
    for agent in agents:
        await agent.close()


async def test_a_hello_the_database_fails_is_told_to_come_back(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    station_id, token = (await _stations(admin, 1))[0]
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    services = live_server.services

    async def broken(db: AsyncSession, station_id: uuid.UUID) -> Any:
        await db.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(services.presence, "_describe", broken)
    await agent.say_hello()
    with pytest.raises(ConnectionClosed) as closed:
        await agent.next(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.TRY_AGAIN_LATER
    assert retry_after(closed.value.rcvd.reason) is not None
    async with services.database.sessionmaker() as db:
        station = await db.get(Station, uuid.UUID(station_id))
        assert station is not None and station.agent_version is None  # not half-written
