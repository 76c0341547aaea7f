"""A booked PC with the real agent (service part, Simulated backend) over a real
WebSocket: its login view says whom it is reserved for, refuses anyone else with the
reason, lets the member in; released as a no-show (the worker ticked with the test's
clock), the notice goes and anyone may log in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.server.settings import Settings
from tests.agent.harness import RunningAgent, agent_config, wait_until
from tests.agent.test_selfserve import PIN, log_in, login_view
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, top_up

DEPOSIT = 300


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "reservation_deposit": DEPOSIT,
            "reservation_no_show_minutes": 10,
            "reservation_poll_seconds": 3600,  # ticked by the test
            "play_block_seconds": 60,
            "venue_name": "Pixel Lounge",
        }
    )


async def member(
    live_server: LiveServer, admin: httpx.AsyncClient, name: str
) -> tuple[dict[str, Any], httpx.AsyncClient]:
    customer = await create_customer(admin, pin=PIN, full_name=name)
    assert (await top_up(admin, customer["id"], 5000)).status_code == 201
    return customer, live_server.client(await live_server.login(customer["username"], PIN))


async def book_from_now(member: httpx.AsyncClient, station_id: str) -> datetime:
    """Book the PC for the member from the current minute, for an hour: held at once."""
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    body = {"starts_at": start.isoformat(), "minutes": 60, "station_id": station_id}
    booked = await member.post("/api/v1/reservations", json=body)
    assert booked.status_code == 201, booked.text
    return start


async def start_agent(
    live_server: LiveServer, tmp_path: Path, station_id: str, token: str
) -> RunningAgent:
    folder = tmp_path / "agent"
    folder.mkdir()
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token), folder / "state.json"
    ).start()
    await wait_until(lambda: running.agent.machine.station_info is not None)
    return running


async def test_the_login_view_holds_the_pc_for_its_member(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-12", hourly_rate=3600)
    running = await start_agent(live_server, tmp_path, station_id, token)
    assert login_view(running).reserved == ""
    ada, as_ada = await member(live_server, admin, "Ada Lovelace")
    bob, _ = await member(live_server, admin, "Bob Gamer")
    start = await book_from_now(as_ada, station_id)
    reserved = f"Reserved for Ada at {start:%H:%M}"
    await wait_until(lambda: login_view(running).reserved == reserved)

    log_in(running, bob["username"])
    refusal = (
        f"This PC is reserved for Ada at {start:%H:%M}. "
        "Please use another PC or ask at the front desk."
    )
    await wait_until(lambda: login_view(running).message == refusal)
    assert running.mode() == "locked"

    log_in(running, ada["username"])
    await wait_until(lambda: running.mode() == "session")
    assert await balance_of(admin, ada["id"]) == 5000 - 60  # the deposit went back into play
    await running.stop()


async def test_a_no_show_frees_the_login_view(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-13", hourly_rate=3600)
    running = await start_agent(live_server, tmp_path, station_id, token)
    _, as_ada = await member(live_server, admin, "Ada Lovelace")
    bob, _ = await member(live_server, admin, "Bob Gamer")
    start = await book_from_now(as_ada, station_id)
    await wait_until(lambda: login_view(running).reserved.startswith("Reserved for Ada"))

    assert await live_server.services.reservations.tick(start + timedelta(minutes=10)) == (0, 1)
    await wait_until(lambda: login_view(running).reserved == "")
    log_in(running, bob["username"])
    await wait_until(lambda: running.mode() == "session")
    await running.stop()
