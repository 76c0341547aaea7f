"""Logging in at the PC over the agent's real WebSocket, paying block by block, logging out;
every refusal the login view can show; the brute-force limit. Real server and database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from gameops.protocol import (
    Error,
    Login,
    LoginResult,
    Logout,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionStart,
    StationInfo,
    WalletUpdate,
)
from tests.server.play.conftest import BLOCK_SECONDS, RATE
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import balance_of, create_customer, events_of, ledger_of, top_up
from tests.support.waiting import eventually

PIN = "4321"


async def member(admin: httpx.AsyncClient, balance: int, **fields: Any) -> dict[str, Any]:
    customer = await create_customer(admin, pin=PIN, **fields)
    if balance:
        assert (await top_up(admin, customer["id"], balance)).status_code == 201
    return customer


async def pc(live_server: LiveServer, admin: httpx.AsyncClient, name: str) -> ScriptedAgent:
    station_id, token = await create_station_with_token(admin, name, RATE)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    info = await agent.expect(StationInfo)
    assert info.station_name == name and info.venue_name == "Pixel Lounge"
    assert info.lines[0] == "Members $36.00/h"
    return agent


async def log_in(agent: ScriptedAgent, username: str, secret: str = PIN) -> LoginResult:
    await agent.send(Login(username=username, secret=secret))
    return await agent.expect(LoginResult)


async def test_play_from_the_balance_across_blocks_until_it_runs_out(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    customer = await member(admin, 5)  # buys 5 s: blocks of 2, 2 and 1
    agent = await pc(live_server, admin, "PC-07")
    result = await log_in(agent, customer["username"].upper())  # names are not case-sensitive
    assert result.ok and result.code == "ok", result
    start = await agent.expect(SessionStart)
    assert start.id == result.session_id
    wallet = await agent.expect(WalletUpdate)
    assert (wallet.balance, wallet.balance_text, wallet.buys_seconds) == (3, "$0.03", 3)
    assert (wallet.block_ends_at - start.started_at).total_seconds() == BLOCK_SECONDS

    extended = await agent.expect(SessionExtended, timeout=8)
    assert (extended.new_end_time - start.scheduled_end_at).total_seconds() == 2
    assert (await agent.expect(WalletUpdate)).balance == 1
    last = await agent.expect(SessionExtended, timeout=8)
    assert (last.new_end_time - start.started_at).total_seconds() == 5  # the short block
    assert (await agent.expect(WalletUpdate)).balance == 0
    expired = await agent.expect(SessionExpired, timeout=8)
    assert expired.id == result.session_id

    assert await balance_of(admin, customer["id"]) == 0
    debits = [e["amount"] for e in await ledger_of(admin, customer["id"]) if e["kind"] == "DEBIT"]
    assert sorted(debits) == [-2, -2, -1]
    session = (await admin.get(f"/api/v1/sessions/{result.session_id}")).json()
    assert session["status"] == "EXPIRED" and session["amount_total"] == 5
    again = await log_in(agent, customer["username"])  # the login was closed at the expiry
    assert again.code == "balance_too_low"
    await agent.close()


async def test_refusals_say_why(live_server: LiveServer, admin: httpx.AsyncClient) -> None:
    rich = await member(admin, 1000)
    poor = await member(admin, 1)
    disabled = await member(admin, 1000)
    off = await admin.patch(f"/api/v1/customers/{disabled['id']}", json={"is_active": False})
    assert off.status_code == 200, off.text
    agent = await pc(live_server, admin, "PC-01")
    other = await pc(live_server, admin, "PC-02")

    wrong = await log_in(agent, rich["username"], "0000")
    assert (wrong.ok, wrong.code, wrong.message) == (
        False,
        "wrong_credentials",
        "Wrong username or PIN",
    )
    nobody = await log_in(agent, "nobody-here", PIN)
    assert nobody.message == "Wrong username or PIN"  # no hint which part was wrong
    assert (await log_in(agent, disabled["username"])).message == "Account disabled"
    low = await log_in(agent, poor["username"])
    assert low.message == "Balance too low: $0.01; the minimum is $0.02"

    assert (await log_in(agent, rich["username"])).ok
    twice = await log_in(other, rich["username"])
    assert (twice.code, twice.message) == ("already_logged_in", "Already logged in at PC-01")
    busy = await log_in(agent, poor["username"])
    assert busy.code in ("station_busy", "balance_too_low")
    await agent.close()
    await other.close()


async def test_logout_refunds_the_unused_block_in_one_entry(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    customer = await member(admin, 1000)
    agent = await pc(live_server, admin, "PC-03")
    result = await log_in(agent, customer["username"])
    assert result.ok and result.session_id is not None
    await agent.expect(SessionStart)
    await agent.send(Logout(session_id=result.session_id))
    bye = await agent.expect(LoginResult)
    assert (bye.ok, bye.code) == (True, "logged_out")
    assert isinstance(await agent.expect(SessionEnd), SessionEnd)

    ledger = await ledger_of(admin, customer["id"])
    refunds = [e for e in ledger if e["kind"] == "REFUND"]
    debits = [e for e in ledger if e["kind"] == "DEBIT"]
    assert len(refunds) == 1 and refunds[0]["amount"] == bye.refunded
    charged = -sum(e["amount"] for e in debits)
    assert 0 <= bye.refunded <= charged
    balance = await balance_of(admin, customer["id"])
    assert balance == 1000 - charged + bye.refunded == sum(e["amount"] for e in ledger)
    again = await log_in(agent, customer["username"])  # free to log in again
    assert again.ok, again
    await agent.close()


async def test_wrong_guesses_are_limited_per_station_and_reported(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    customer = await member(admin, 1000)
    agent = await pc(live_server, admin, "PC-04")
    for _ in range(5):
        assert (await log_in(agent, customer["username"], "9999")).code == "wrong_credentials"
    held = await log_in(agent, customer["username"])  # even the right PIN waits now
    assert held.code == "throttled" and held.retry_after_seconds is not None
    assert 50 <= held.retry_after_seconds <= 60
    assert held.message.startswith("Too many attempts; try again in")
    tampers = await eventually(
        lambda: events_of(admin, "AGENT_TAMPER"), lambda found: len(found) == 1
    )
    assert tampers[0]["data"]["kind"] == "login_burst"
    assert "9999" not in str(tampers) and PIN not in str(tampers)
    fresh = await pc(live_server, admin, "PC-05")  # the account is held on every station
    assert (await log_in(fresh, customer["username"])).code == "throttled"
    await agent.close()
    await fresh.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_bad_login_frame_is_an_error_not_a_crash(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    agent = await pc(live_server, admin, "PC-06")
    frame = {"type": "login", "id": str(uuid.uuid4()), "data": {"username": ""}}
    await agent.connection.send(json.dumps(frame))
    error = await agent.expect(Error)
    assert "username" in error.detail
    await agent.close()
