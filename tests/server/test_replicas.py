"""Several server replicas on one PostgreSQL and one Redis, as in a real deployment."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from gameops.protocol import (
    Auth,
    CloseCode,
    Replaced,
    ServerHello,
    SessionExpired,
    SessionStart,
    encode,
)
from gameops.server.bus import PRESENCE
from tests.support.agent_client import ScriptedAgent
from tests.support.agent_sockets import (
    HeldAfterWrite,
    agents_served,
    first_answer,
    never_replaced,
    overtaken_handshake,
)
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.live_server import LiveServer, server_settings
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[list[LiveServer]]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    shared = {
        "secret_key": uuid.uuid4().hex,
        "device_key": uuid.uuid4().hex,
        "redis_url": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "redis_prefix": f"test-{uuid.uuid4().hex[:8]}:",
    }
    servers = [
        LiveServer(server_settings(database_url, tmp_path / f"data{i}", **shared)) for i in range(2)
    ]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.close()


async def test_command_reaches_agent_on_another_replica(replicas: list[LiveServer]) -> None:
    a, b = replicas
    station_id, token = await a.create_pc_station()
    agent = await ScriptedAgent.connect(a.ws_url, station_id, token)
    admin_b = await b.admin_client()
    session = await start_session(admin_b, station_id)
    assert session["agent_connected"] is True
    started = await agent.expect(SessionStart)
    assert str(started.id) == session["id"]
    await agent.close()


async def test_connection_on_another_replica_replaces_the_first(
    replicas: list[LiveServer],
) -> None:
    a, b = replicas
    station_id, token = await a.create_pc_station()
    first = await ScriptedAgent.connect(a.ws_url, station_id, token)
    second = await ScriptedAgent.connect(b.ws_url, station_id, token)
    await first.expect(Replaced)
    with pytest.raises(ConnectionClosed) as closed:
        await first.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.REPLACED
    await eventually(lambda: agents_served(a), lambda served: served == 0)  # its exit written
    station = (await (await a.admin_client()).get(f"/api/v1/stations/{station_id}")).json()
    assert station["agent_connected"] is True
    await second.close()


async def test_expiry_happens_once_with_two_replicas_armed(replicas: list[LiveServer]) -> None:
    a, b = replicas
    station_id, token = await a.create_pc_station()
    agent = await ScriptedAgent.connect(b.ws_url, station_id, token)
    admin: httpx.AsyncClient = await a.admin_client()
    session = await start_session(admin, station_id)
    await agent.expect(SessionStart)
    session_id = uuid.UUID(str(session["id"]))

    async def armed() -> bool:  # both replicas arm a timer from the bus
        return all(r.services.expiry.is_armed(session_id) for r in (a, b))

    await eventually(armed, bool)

    end_at = await end_soon(a, str(session["id"]), 0.4)
    b.services.expiry.arm(uuid.UUID(str(session["id"])), end_at)
    await agent.expect(SessionExpired)
    await asyncio.sleep(0.5)
    events = (await admin.get("/api/v1/events", params={"session_id": session["id"]})).json()
    assert [e["type"] for e in events["items"]].count("SESSION_EXPIRED") == 1
    with pytest.raises(TimeoutError):
        await agent.expect(SessionExpired, timeout=0.5)  # and the agent was told once
    await agent.close()


@pytest.mark.parametrize("first_start", [pytest.param(True, id="empty-database")])
async def test_replicas_started_together_on_a_new_database_all_start(
    database_url: str, tmp_path: Path
) -> None:
    """Each replica creates the first admin when none exists; only one can, the others
    carry on (a restart of every replica at once after a fresh install)."""
    shared = {"secret_key": uuid.uuid4().hex}
    servers = [
        LiveServer(server_settings(database_url, tmp_path / f"data{i}", **shared)) for i in range(3)
    ]
    try:
        await asyncio.gather(*(server.start() for server in servers))
        for server in servers:
            assert (await server.client().get("/health")).status_code == 200
            await server.login()
    finally:
        for server in servers:
            await server.close()


async def test_a_stale_handshake_on_another_replica_does_not_take_the_station(
    replicas: list[LiveServer],
) -> None:
    """The first attempt, accepted by one replica, finishes its handshake after the second
    attempt got in through another: the first is closed as replaced, the second is kept."""
    a, b = replicas
    station_id, token = await a.create_pc_station()
    admin = await a.admin_client()
    live, stale_answer = await overtaken_handshake(a.ws_url, b.ws_url, station_id, token)
    session = await start_session(admin, station_id)
    assert str((await live.expect(SessionStart)).id) == session["id"]
    assert never_replaced(live)
    assert stale_answer == CloseCode.REPLACED  # closed, not greeted
    await eventually(lambda: agents_served(a), lambda served: served == 0)
    station = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    assert station["agent_connected"] is True
    await live.close()
    station_url = f"/api/v1/stations/{station_id}"
    await eventually(
        lambda: admin.get(station_url), lambda answer: not answer.json()["agent_connected"]
    )


async def test_a_stale_connection_announced_last_is_replaced_on_its_replica(
    replicas: list[LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale attempt's write committed first on one replica, the newer connection got
    in through the other and was announced before the stale one reached its hub: the
    replica holding the newer one answers the stale announcement, and the stale one goes."""
    a, b = replicas
    station_id, token = await a.create_pc_station()
    admin = await a.admin_client()
    held = HeldAfterWrite(a, monkeypatch)
    presence_at_a = a.services.bus.subscribe(PRESENCE)

    async def announced_at_a() -> None:  # ...and so queued for a's hub, which runs first
        async for message in presence_at_a:
            if message["station_id"] == station_id:
                return

    async with websockets.connect(f"{a.ws_url}/ws/agent/{station_id}", compression=None) as stale:
        await stale.send(encode(Auth(token=token)))
        await asyncio.wait_for(held.written.wait(), 10)
        live = await ScriptedAgent.connect(b.ws_url, station_id, token)
        await asyncio.wait_for(announced_at_a(), 10)  # a's hub hears of it before the stale
        held.release()
        assert await first_answer(stale) == ServerHello.TYPE  # it was written before
        assert await first_answer(stale) == Replaced.TYPE
    await eventually(lambda: agents_served(a), lambda served: served == 0)
    session = await start_session(admin, station_id)
    assert str((await live.expect(SessionStart)).id) == session["id"]
    assert never_replaced(live)
    station = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    assert station["agent_connected"] is True
    await live.close()


@pytest.fixture
async def replicas_polling_rarely(
    database_url: str, tmp_path: Path
) -> AsyncIterator[list[LiveServer]]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    shared = {
        "secret_key": uuid.uuid4().hex,
        "device_key": uuid.uuid4().hex,
        "redis_url": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "redis_prefix": f"test-{uuid.uuid4().hex[:8]}:",
        "outbox_poll_seconds": 60,
    }
    servers = [
        LiveServer(server_settings(database_url, tmp_path / f"data{i}", **shared)) for i in range(2)
    ]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.close()


async def test_a_command_made_on_either_replica_is_relayed_at_its_commit(
    replicas_polling_rarely: list[LiveServer],
) -> None:
    """One replica relays (the advisory lock's holder); the other's commits wake it by
    NOTIFY, not its poll (a minute here)."""
    servers = replicas_polling_rarely
    for seller in servers:
        station_id, token = await seller.create_pc_station()
        agent = await ScriptedAgent.connect(servers[0].ws_url, station_id, token)
        await start_session(await seller.admin_client(), station_id)
        await agent.expect(SessionStart, timeout=10)
        await agent.close()
