"""Self-service end to end: the real agent (service part, Simulated backend) against the
real server over a real WebSocket. A member logs in from the login view, plays from the
balance across billing blocks with warnings, runs out and is locked and logged off; logs
out and gets the unused block back; credentials never reach a log or the disk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent.session import OFFLINE_LOGIN
from gameops.server.settings import Settings
from tests.agent.harness import RunningAgent, agent_config, captured_events, wait_until
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, ledger_of, top_up

PIN = "73915"  # digits no id, time or amount in these tests is likely to contain


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "play_block_seconds": 2,
            "play_renew_lead_seconds": 1.5,  # slack for a busy machine
            "play_renew_poll_seconds": 0.1,
            "venue_name": "Pixel Lounge",
        }
    )


async def member(admin: httpx.AsyncClient, balance: int) -> dict[str, Any]:
    customer = await create_customer(admin, pin=PIN, full_name="Ada Player")
    assert (await top_up(admin, customer["id"], balance)).status_code == 201
    return customer


async def login_view_agent(
    live_server: LiveServer, tmp_path: Path, rate: int = 3600
) -> RunningAgent:
    station_id, token = await live_server.create_pc_station("PC-07", hourly_rate=rate)
    folder = tmp_path / "agent"  # the PC's disk (the server's database lives elsewhere)
    folder.mkdir()
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token), folder / "state.json"
    ).start()
    await wait_until(lambda: running.agent.machine.station_info is not None)
    return running


def login_view(running: RunningAgent) -> Any:
    return running.agent.machine.view(running.agent.parts.clock.now()).login


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def log_in(running: RunningAgent, username: str, secret: str = PIN) -> None:
    running.agent.desktop_request({"op": "login", "username": username, "secret": secret})


async def test_login_play_across_blocks_warn_run_out_lock_and_log_off(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer = await member(admin, 7)  # 7 s at 36.00/h: blocks of 2, 2, 2 and 1 s
    running = await login_view_agent(live_server, tmp_path)
    machine = running.agent.machine
    machine.rules = replace(machine.rules, warning_seconds=5, last_warning_seconds=2)
    view = login_view(running)
    assert (view.station, view.venue) == ("PC-07", "Pixel Lounge")
    assert view.prices == ("Members $36.00/h", "Guests $36.00/h")

    with captured_events(caplog) as logs:
        log_in(running, customer["username"])
        await wait_until(lambda: running.mode() == "session")
        await wait_until(lambda: machine.wallet is not None)
        now = running.agent.parts.clock.now()
        shown = machine.view(now)
        assert shown.logout and shown.wallet == "$0.05"
        assert shown.remaining_seconds is not None and 5 <= shown.remaining_seconds <= 7
        await wait_until(lambda: running.mode() == "grace", seconds=12)
        await wait_until(lambda: "log_off" in running.control.names(), seconds=4)
    assert running.mode() == "locked"
    notices = [entry["text"] for entry in logs if entry["event"] == "agent_notify"]
    assert "5 seconds left. Save your game soon." in notices
    assert "2 seconds left. Save your game soon." in notices
    assert "lock_screen" in running.control.names()

    assert await balance_of(admin, customer["id"]) == 0
    debits = [e["amount"] for e in await ledger_of(admin, customer["id"]) if e["kind"] == "DEBIT"]
    assert sorted(debits) == [-2, -2, -2, -1]
    # Credentials are never logged (agent or server, same process here) nor written to disk.
    # aiosqlite's debug lines print object addresses, whose hex digits may spell any PIN.
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith("aiosqlite")]
    assert not [line for line in lines if PIN in line]
    assert all(PIN not in str(entry) for entry in logs)
    await running.stop()
    assert not files_containing(tmp_path / "agent", PIN.encode())


async def test_log_out_refunds_the_unused_block(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    customer = await member(admin, 1000)
    running = await login_view_agent(live_server, tmp_path)
    log_in(running, customer["username"])
    await wait_until(lambda: running.agent.machine.view(running.agent.parts.clock.now()).logout)
    running.agent.desktop_request({"op": "logout"})
    await wait_until(lambda: running.mode() == "locked")
    await wait_until(lambda: login_view(running).message == "Logged out. Thank you!")
    ledger = await ledger_of(admin, customer["id"])
    assert [e["kind"] for e in ledger].count("REFUND") == 1
    assert sum(e["amount"] for e in ledger) == await balance_of(admin, customer["id"])
    assert "log_off" not in running.control.names()  # a logout locks; nothing to save
    await running.stop()


async def test_wrong_pin_then_throttled_shows_on_the_login_view(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    customer = await member(admin, 1000)
    running = await login_view_agent(live_server, tmp_path)
    log_in(running, customer["username"], "00000")
    await wait_until(lambda: login_view(running).message == "Wrong username or PIN")
    for _ in range(4):
        log_in(running, customer["username"], "00000")
        await wait_until(lambda: login_view(running).message != "Checking...")
    log_in(running, customer["username"])
    await wait_until(lambda: login_view(running).wait_seconds > 0)
    assert login_view(running).message.startswith("Too many attempts")
    before = running.agent.link.queued
    log_in(running, customer["username"])  # ignored while the wait runs
    assert running.agent.link.queued == before
    assert running.mode() == "locked"
    await running.stop()


async def test_a_new_login_needs_the_server(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    customer = await member(admin, 1000)
    running = await login_view_agent(live_server, tmp_path)
    await live_server.stop()
    await wait_until(lambda: not running.agent.link.connected)
    log_in(running, customer["username"])
    assert login_view(running).message == OFFLINE_LOGIN
    assert running.agent.link.queued == 0  # nothing kept to send later
    assert running.mode() == "locked"
    await running.stop()


async def test_cut_off_mid_session_the_pc_enforces_the_paid_block(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    customer = await member(admin, 1000)  # enough for many blocks, none charged offline
    running = await login_view_agent(live_server, tmp_path)
    log_in(running, customer["username"])
    await wait_until(lambda: running.agent.machine.wallet is not None)
    await live_server.stop()
    await wait_until(lambda: not running.agent.link.connected)
    assert running.mode() == "session"
    # No more blocks without the server: the current one ends, then grace, lock and log-off.
    await wait_until(lambda: running.mode() == "grace", seconds=5)
    await wait_until(lambda: "log_off" in running.control.names(), seconds=25)
    assert running.mode() == "locked"
    assert running.agent.machine.scheduled_end_at is None
    await running.stop()
