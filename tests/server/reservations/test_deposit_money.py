"""Booking deposits in the money report (docs/money.md): a held deposit is still the
customer's money (liability), a kept one is revenue, a credited or refunded one is neither;
money in - revenue = change in liability still holds, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gameops.protocol import Login, LoginResult, SessionStart, StationInfo
from gameops.server.settings import Settings
from tests.server.reservations.conftest import DEPOSIT, PIN, RATE, at, book, member, pc
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import balance_of

BLOCK = 60  # a minute's block at one minor unit a second


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A no-show is released one minute after the start, so the worker runs on the real clock.
    return settings.model_copy(update={"reservation_no_show_minutes": 1})


async def money(admin: httpx.AsyncClient, since: datetime, until: datetime) -> dict[str, Any]:
    params = {"from": since.isoformat(), "to": until.isoformat()}
    response = await admin.get("/api/v1/reports/money", params=params)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_held_kept_credited_and_refunded_deposits_keep_the_report_adding_up(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ada, as_ada = await member(live_server, admin, 2000)
    bob, as_bob = await member(live_server, admin, 1000, "Bob Gamer")
    cy, as_cy = await member(live_server, admin, 1000, "Cy Clone")
    # Held: Ada's booking later tonight.
    later = await book(as_ada, at(3), 60, station_id=await pc(admin, "PC-20"))
    assert later.status_code == 201, later.text
    # Refunded: Ada's second booking, cancelled.
    second = (await book(as_ada, at(5), 60, station_id=await pc(admin, "PC-21"))).json()
    assert (await as_ada.post(f"/api/v1/reservations/{second['id']}/cancel")).status_code == 200
    # Kept: Bob's booking that started three minutes ago; he never came.
    missed = await book(as_bob, at(0) - timedelta(minutes=3), 60, station_id=await pc(admin, "X"))
    assert missed.status_code == 201, missed.text
    assert await live_server.services.reservations.tick() == (0, 1)
    # Credited against play: Cy logs in at her booked PC, and plays a block from it.
    station, token = await create_station_with_token(admin, "PC-22", RATE)
    agent = await ScriptedAgent.connect(live_server.ws_url, station, token)
    await agent.say_hello()
    await agent.expect(StationInfo)
    assert (await book(as_cy, at(0), 60, station_id=station)).status_code == 201
    await agent.send(Login(username=cy["username"], secret=PIN))
    assert (await agent.expect(LoginResult)).ok
    await agent.expect(SessionStart)
    await agent.close()

    until = datetime.now(UTC) + timedelta(seconds=1)
    report = await money(admin, since, until)
    assert report["kept_deposits"] == DEPOSIT  # Bob's, once
    assert report["revenue"] == BLOCK + DEPOSIT  # Cy's play (her deposit paid for it) + Bob's
    assert report["money_in"]["total"] == 4000  # the three top-ups, nothing else
    liability = report["liability"]
    assert (liability["held_deposits_at_start"], liability["held_deposits_at_end"]) == (0, DEPOSIT)
    balances = [await balance_of(admin, who["id"]) for who in (ada, bob, cy)]
    assert balances == [2000 - DEPOSIT, 1000 - DEPOSIT, 1000 - BLOCK]
    assert liability["at_end"] == sum(balances) + DEPOSIT  # Ada's held deposit is still hers
    assert report["money_in"]["total"] - report["revenue"] == liability["change"]

    # A window that starts after the bookings were made: the held deposit is there at both
    # ends, and nothing new happened in it.
    quiet = await money(admin, until, until + timedelta(seconds=5))
    assert quiet["liability"]["held_deposits_at_start"] == DEPOSIT
    assert (quiet["revenue"], quiet["kept_deposits"], quiet["liability"]["change"]) == (0, 0, 0)
