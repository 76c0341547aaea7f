"""Self-service with the real agent and 30 s blocks: a server restart in the middle of a
session loses no money and no minutes; a guest ticket is used on one PC and then another,
keeping what was not played; refusals reach the login view as the server words them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.server.settings import Settings
from tests.agent.harness import RunningAgent, agent_config, wait_until
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, ledger_of, top_up

PIN = "86420"
BLOCK = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "play_block_seconds": BLOCK,
            "play_renew_lead_seconds": 1.0,
            "play_renew_poll_seconds": 0.1,
            "venue_name": "Pixel Lounge",
        }
    )


async def pc(live_server: LiveServer, tmp_path: Path, name: str) -> RunningAgent:
    station_id, token = await live_server.create_pc_station(name, hourly_rate=3600)
    folder = tmp_path / name
    folder.mkdir()
    config = agent_config(live_server.base_url, station_id, token)
    running = RunningAgent(config, folder / "state.json").start()
    await wait_until(lambda: running.agent.machine.station_info is not None)
    return running


def login_message(running: RunningAgent) -> str:
    view = running.agent.machine.view(running.agent.parts.clock.now())
    return view.login.message if view.login is not None else ""


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def test_a_server_restart_mid_session_loses_no_money_and_no_minutes(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    customer = await create_customer(admin, pin=PIN)
    assert (await top_up(admin, customer["id"], 1000)).status_code == 201
    running = await pc(live_server, tmp_path, "PC-21")
    running.agent.desktop_request({"op": "login", "username": customer["username"], "secret": PIN})
    await wait_until(lambda: running.agent.machine.wallet is not None)
    session_id = running.agent.machine.session_id
    end_before = running.agent.machine.scheduled_end_at

    await live_server.restart()
    assert running.mode() == "session"  # enforced on the PC meanwhile
    await wait_until(lambda: running.agent.link.connected, seconds=10)
    assert running.agent.machine.session_id == session_id
    assert running.agent.machine.scheduled_end_at == end_before  # not a second more or less

    running.agent.desktop_request({"op": "logout"})
    await wait_until(lambda: running.mode() == "locked")
    session = (await admin.get(f"/api/v1/sessions/{session_id}")).json()
    ledger = await ledger_of(admin, customer["id"])
    debits = [e["amount"] for e in ledger if e["kind"] == "DEBIT"]
    refunds = [e["amount"] for e in ledger if e["kind"] == "REFUND"]
    assert debits == [-BLOCK] and len(refunds) == 1
    played = seconds_between(session["started_at"], session["actual_end_at"])
    assert abs((BLOCK - refunds[0]) - played) <= 1  # paid for what was played, to the second
    assert await balance_of(admin, customer["id"]) == 1000 - BLOCK + refunds[0]
    assert sum(e["amount"] for e in ledger) == 1000 - BLOCK + refunds[0]
    await running.stop()


async def test_a_guest_ticket_on_two_pcs_in_turn(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    sold = await admin.post("/api/v1/tickets", json={"minutes": 1, "price": 300})
    assert sold.status_code == 201, sold.text
    code = sold.json()["code"]
    first = await pc(live_server, tmp_path, "PC-31")
    second = await pc(live_server, tmp_path, "PC-32")

    first.agent.desktop_request({"op": "login", "ticket": code})
    await wait_until(lambda: first.agent.machine.wallet is not None)
    wallet = first.agent.machine.wallet
    assert wallet is not None and wallet.ticket and wallet.balance_text == "0 min"
    second.agent.desktop_request({"op": "login", "ticket": code})
    await wait_until(lambda: login_message(second) == "This ticket is in use at PC-31")

    first.agent.desktop_request({"op": "logout"})
    await wait_until(lambda: first.mode() == "locked")
    second.agent.desktop_request({"op": "login", "ticket": code})
    await wait_until(lambda: second.agent.machine.wallet is not None)
    total = second.agent.machine.view(second.agent.parts.clock.now()).remaining_seconds
    assert total is not None and 55 <= total <= 60  # what PC-31 did not use came along
    await first.stop()
    await second.stop()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("disabled", "Account disabled"),
        ("low", "Balance too low: $0.10; the minimum is $0.30"),
        ("double", "Already logged in at PC-41"),
    ],
)
async def test_refusals_reach_the_login_view(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path, case: str, expected: str
) -> None:
    customer: dict[str, Any] = await create_customer(admin, pin=PIN)
    amount = 10 if case == "low" else 1000
    assert (await top_up(admin, customer["id"], amount)).status_code == 201
    if case == "disabled":
        patched = await admin.patch(
            f"/api/v1/customers/{customer['id']}", json={"is_active": False}
        )
        assert patched.status_code == 200
    if case == "double":
        elsewhere = await pc(live_server, tmp_path, "PC-41")
        elsewhere.agent.desktop_request(
            {"op": "login", "username": customer["username"], "secret": PIN}
        )
        await wait_until(lambda: elsewhere.mode() == "session")
    running = await pc(live_server, tmp_path, "PC-42")
    running.agent.desktop_request({"op": "login", "username": customer["username"], "secret": PIN})
    await wait_until(lambda: login_message(running) == expected)
    assert running.mode() == "locked"
    await running.stop()
    if case == "double":
        await elsewhere.stop()


async def test_a_package_bought_from_the_login_view(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    plan = {
        "zone": "Arena",
        "name": "Arena",
        "member_hourly_rate": 600,
        "guest_hourly_rate": 600,
        "packages": [{"name": "2 hours", "minutes": 120, "price": 1000}],
    }
    assert (await admin.post("/api/v1/pricing/plans", json=plan)).status_code == 201
    body = {"name": "PC-71", "type": "PC", "hourly_rate": 600, "zone": "Arena"}
    station_id = (await admin.post("/api/v1/stations", json=body)).json()["id"]
    token = (await admin.post(f"/api/v1/stations/{station_id}/agent-token")).json()["token"]
    (tmp_path / "pc").mkdir()
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token), tmp_path / "pc" / "state.json"
    ).start()
    await wait_until(lambda: running.agent.machine.station_info is not None)
    view = running.agent.machine.view(running.agent.parts.clock.now()).login
    assert view is not None and view.packages == (("2 hours", "2 hours: 2 h 00 min for $10.00"),)
    customer = await create_customer(admin, pin=PIN)
    assert (await top_up(admin, customer["id"], 1500)).status_code == 201
    request = {"username": customer["username"], "secret": PIN, "package": "2 hours"}
    running.agent.desktop_request({"op": "login", **request})
    await wait_until(lambda: running.agent.machine.wallet is not None)
    wallet = running.agent.machine.wallet
    assert wallet is not None and wallet.balance_text == "$5.00"
    total = running.agent.machine.view(running.agent.parts.clock.now()).remaining_seconds
    assert total is not None and 7200 + 2990 <= total <= 7200 + 3000  # 2 h + what $5 buys
    await running.stop()
