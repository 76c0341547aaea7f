"""Pay as you go with two server processes on one PostgreSQL and one Redis: both replicas
look for blocks to renew ten times a second, so they race for every renewal. Each block must
be charged exactly once, blocks back to back, the ledger equal to the time played."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.protocol import Login, LoginResult, SessionExpired, SessionExtended, WalletUpdate
from tests.support.agent_client import ScriptedAgent
from tests.support.cluster import Cluster, Replica
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, create_station_with_token
from tests.support.money import API, balance_of, create_customer, ledger_of, top_up

PIN = "2468"
BLOCK_SECONDS = 4  # renewed 3 s ahead: slack for a loaded machine
RATE = 3600  # one minor unit a second
BALANCE = 5 * BLOCK_SECONDS  # five full blocks each
MEMBERS = 6


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[list[Replica]]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    shared = {
        "GAMEOPS_DATABASE_URL": database_url,
        "GAMEOPS_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "GAMEOPS_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        "GAMEOPS_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "GAMEOPS_DEVICE_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "GAMEOPS_REQUIRE_OPEN_SHIFT": "false",  # top-ups in cash without a till shift
        "GAMEOPS_PLAY_BLOCK_SECONDS": str(BLOCK_SECONDS),
        "GAMEOPS_PLAY_RENEW_LEAD_SECONDS": "3",
        "GAMEOPS_PLAY_RENEW_POLL_SECONDS": "0.1",
        "GAMEOPS_LOGOFF_GRACE_SECONDS": "1",
        "GAMEOPS_EXPIRY_SWEEP_SECONDS": "1",
    }
    cluster = Cluster.build(tmp_path, shared, count=2)
    try:
        # The first one alone: it migrates the new database and creates the admin.
        await cluster.replicas[0].start()
        await cluster.replicas[1].start()
        yield cluster.replicas
    finally:
        await cluster.close()


async def admin_of(replica: Replica) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=replica.base_url, timeout=30)
    login = await client.post(
        "/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return client


async def play_until_broke(agent: ScriptedAgent, username: str) -> dict[str, Any]:
    """Log in, then follow the session to its expiry: what the PC was told on the way."""
    await agent.send(Login(username=username, secret=PIN))
    result = await agent.expect(LoginResult, timeout=30)
    assert result.ok, result
    extensions: list[SessionExtended] = []
    wallets: list[WalletUpdate] = []
    while True:
        _, payload = await agent.next(timeout=30)
        if isinstance(payload, SessionExtended):
            extensions.append(payload)
        elif isinstance(payload, WalletUpdate):
            wallets.append(payload)
        elif isinstance(payload, SessionExpired):
            return {"extensions": extensions, "wallets": wallets, "expired": payload}


@pytest.mark.timeout(300)
async def test_each_block_is_charged_once_when_two_replicas_renew(
    replicas: list[Replica],
) -> None:
    admins = [await admin_of(replica) for replica in replicas]
    agents, members = [], []
    for number in range(MEMBERS):
        member = await create_customer(admins[0], pin=PIN)
        assert (await top_up(admins[0], member["id"], BALANCE)).status_code == 201
        station_id, token = await create_station_with_token(admins[0], f"PC-{number}", RATE)
        replica = replicas[number % 2]  # half the PCs on each replica
        agent = await ScriptedAgent.connect(replica.ws_url, station_id, token)
        await agent.say_hello()
        agents.append(agent)
        members.append(member)

    followed = await asyncio.gather(
        *(play_until_broke(a, m["username"]) for a, m in zip(agents, members, strict=True))
    )

    for member, seen in zip(members, followed, strict=True):
        assert await balance_of(admins[1], member["id"]) == 0
        debits = [
            e["amount"] for e in await ledger_of(admins[1], member["id"]) if e["kind"] == "DEBIT"
        ]
        assert debits == [-BLOCK_SECONDS] * 5, debits  # five blocks, each charged once
        ends = [e.new_end_time for e in seen["extensions"]]
        assert len(ends) == len(set(ends)) == 4  # each renewal told to the PC once
        assert [w.balance for w in seen["wallets"]] == [16, 12, 8, 4, 0]
        session = (await admins[0].get(f"{API}/sessions/{seen['expired'].id}")).json()
        assert session["status"] == "EXPIRED" and session["amount_total"] == BALANCE
        played = _seconds(session["scheduled_end_at"]) - _seconds(session["started_at"])
        assert played == BALANCE  # blocks back to back: paid seconds = seconds played
    for agent in agents:
        await agent.close()
    for admin in admins:
        await admin.aclose()


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
