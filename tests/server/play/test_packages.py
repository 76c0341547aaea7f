"""Buying a package from the login view: the first block is the package, at its price."""

from __future__ import annotations

import httpx

from gameops.protocol import Login, LoginResult, SessionStart, StationInfo, WalletUpdate
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.money import create_customer, ledger_of, top_up

PIN = "5150"


async def zone_pc(live_server: LiveServer, admin: httpx.AsyncClient) -> ScriptedAgent:
    plan = {
        "zone": "Arena",
        "name": "Arena",
        "member_hourly_rate": 600,
        "guest_hourly_rate": 800,
        "packages": [{"name": "3 hours", "minutes": 180, "price": 1200}],
    }
    assert (await admin.post("/api/v1/pricing/plans", json=plan)).status_code == 201
    body = {"name": "PC-61", "type": "PC", "hourly_rate": 600, "zone": "Arena"}
    created = await admin.post("/api/v1/stations", json=body)
    assert created.status_code == 201, created.text
    station_id = created.json()["id"]
    token = (await admin.post(f"/api/v1/stations/{station_id}/agent-token")).json()["token"]
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    return agent


async def test_a_package_from_the_login_view(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    rich = await create_customer(admin, pin=PIN)
    poor = await create_customer(admin, pin=PIN)
    assert (await top_up(admin, rich["id"], 2000)).status_code == 201
    assert (await top_up(admin, poor["id"], 500)).status_code == 201
    agent = await zone_pc(live_server, admin)
    info = await agent.expect(StationInfo)
    assert [(p.name, p.text) for p in info.packages] == [
        ("3 hours", "3 hours: 3 h 00 min for $12.00")
    ]
    assert info.lines[:2] == ["Members $6.00/h", "Guests $8.00/h"]

    await agent.send(Login(username=poor["username"], secret=PIN, package="3 hours"))
    short = await agent.expect(LoginResult)
    assert short.message == "Balance too low: $5.00; the minimum is $12.00"
    await agent.send(Login(username=rich["username"], secret=PIN, package="1 year"))
    unknown = await agent.expect(LoginResult)
    assert (unknown.code, unknown.message) == (
        "package_unavailable",
        "The package '1 year' is not sold here now",
    )

    await agent.send(Login(username=rich["username"], secret=PIN, package="3 hours"))
    assert (await agent.expect(LoginResult)).ok
    start = await agent.expect(SessionStart)
    wallet = await agent.expect(WalletUpdate)
    assert (wallet.block_ends_at - start.started_at).total_seconds() == 3 * 3600
    assert wallet.balance == 800
    debits = [e["amount"] for e in await ledger_of(admin, rich["id"]) if e["kind"] == "DEBIT"]
    assert debits == [-1200]
    await agent.close()
