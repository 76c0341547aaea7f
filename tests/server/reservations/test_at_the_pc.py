"""A booking at the PC, over the agent's real WebSocket: the login view hears when the PC
is held and released; only the member may log in then, and their deposit pays for play;
a no-show is released by the worker, ticked with the test's clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from gameops.protocol import Login, LoginResult, SessionStart, StationInfo
from gameops.server.db.engine import Database, create_engine
from gameops.server.reservations.watch import ReservationWatch
from tests.server.reservations.conftest import DEPOSIT, PIN, RATE, at, book, member
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import balance_of, events_of, ledger_of


async def pc_with_agent(
    admin: httpx.AsyncClient, live_server: LiveServer
) -> tuple[str, ScriptedAgent]:
    station_id, token = await create_station_with_token(admin, "PC-09", RATE)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    assert (await agent.expect(StationInfo)).reserved is None
    return station_id, agent


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")  # the venue's clock is UTC in these tests


async def reservation(admin: httpx.AsyncClient, booked: dict[str, Any]) -> dict[str, Any]:
    day = booked["starts_at"][:10]
    rows = (await admin.get("/api/v1/reservations", params={"day": day})).json()
    found: dict[str, Any] = next(r for r in rows if r["id"] == booked["id"])
    return found


async def test_held_from_the_notice_then_released_as_a_no_show_deposit_kept(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station, agent = await pc_with_agent(admin, live_server)
    ada, as_ada = await member(live_server, admin, 2000)
    start = at(2)
    booked = (await book(as_ada, start, 60, station_id=station)).json()
    watch = live_server.services.reservations

    assert await watch.tick(start - timedelta(minutes=16)) == (0, 0)  # not yet held
    assert await watch.tick(start - timedelta(minutes=15)) == (1, 0)
    notice = (await agent.expect(StationInfo)).reserved
    assert notice is not None and notice.text == f"Reserved for Ada at {clock(start)}"
    assert await watch.tick(start + timedelta(minutes=9)) == (0, 0)  # still waiting for Ada
    assert await watch.tick(start + timedelta(minutes=10)) == (0, 1)  # released
    assert (await agent.expect(StationInfo)).reserved is None  # anyone may log in again
    assert await watch.tick(start + timedelta(minutes=11)) == (0, 0)  # once only

    released = await reservation(admin, booked)
    assert (released["status"], released["deposit_outcome"]) == ("NO_SHOW", "KEPT")
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
    assert sum(e["amount"] for e in await ledger_of(admin, ada["id"])) == 2000 - DEPOSIT
    (line,) = await events_of(admin, "RESERVATION_NO_SHOW")
    assert line["station_id"] == station and line["data"]["outcome"] == "KEPT"
    await agent.close()


async def test_a_venue_that_refunds_no_shows(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station, agent = await pc_with_agent(admin, live_server)
    ada, as_ada = await member(live_server, admin, 2000)
    start = at(3)
    booked = (await book(as_ada, start, 60, station_id=station)).json()
    # A worker of its own, with the venue's other rule, on the same database.
    rules = replace(live_server.services.reservations.rules, no_show_keeps_deposit=False)
    database = Database(create_engine(live_server.settings.database_url))
    try:
        watch = ReservationWatch(database, rules, poll_seconds=3600)
        assert await watch.tick(start + timedelta(minutes=30)) == (0, 1)
    finally:
        await database.dispose()
    released = await reservation(admin, booked)
    assert (released["status"], released["deposit_outcome"]) == ("NO_SHOW", "REFUNDED")
    assert await balance_of(admin, ada["id"]) == 2000
    ledger = await ledger_of(admin, ada["id"])
    assert sorted(e["amount"] for e in ledger if e["kind"] != "TOPUP") == [-DEPOSIT, DEPOSIT]
    await agent.close()


async def test_only_the_member_logs_in_and_the_deposit_pays_for_play(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station, agent = await pc_with_agent(admin, live_server)
    ada, as_ada = await member(live_server, admin, DEPOSIT)  # all of it goes on the deposit
    bob, _ = await member(live_server, admin, 2000, "Bob Gamer")
    start = at(0)  # from now: held at once
    booked = (await book(as_ada, start, 60, station_id=station)).json()
    assert await balance_of(admin, ada["id"]) == 0
    notice = (await agent.expect(StationInfo)).reserved
    assert notice is not None and notice.text == f"Reserved for Ada at {clock(start)}"

    await agent.send(Login(username=bob["username"], secret=PIN))
    refused = await agent.expect(LoginResult)
    assert (refused.ok, refused.code, refused.message) == (
        False,
        "reserved",
        f"This PC is reserved for Ada at {clock(start)}. "
        "Please use another PC or ask at the front desk.",
    )
    assert await balance_of(admin, bob["id"]) == 2000

    await agent.send(Login(username=ada["username"], secret=PIN))
    welcome = await agent.expect(LoginResult)
    assert welcome.ok, welcome
    await agent.expect(SessionStart)
    checked_in = await reservation(admin, booked)
    assert (checked_in["status"], checked_in["deposit_outcome"]) == ("CHECKED_IN", "CREDITED")
    block = 60  # one minute at one minor unit a second
    assert await balance_of(admin, ada["id"]) == DEPOSIT - block
    ledger = await ledger_of(admin, ada["id"])
    credits = [e for e in ledger if e["reason"] == "reservation deposit credited against play"]
    assert [e["amount"] for e in credits] == [DEPOSIT]  # one ledger entry
    assert sum(e["amount"] for e in ledger) == DEPOSIT - block
    (line,) = await events_of(admin, "RESERVATION_CHECKED_IN")
    assert line["data"]["credited"] == DEPOSIT and line["session_id"] == str(welcome.session_id)
    # Checked in: the worker leaves it alone.
    assert await live_server.services.reservations.tick(start + timedelta(minutes=30)) == (0, 0)
    await agent.close()


async def test_a_member_already_playing_there_is_checked_in_not_released(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station, agent = await pc_with_agent(admin, live_server)
    ada, as_ada = await member(live_server, admin, 2000)
    await agent.send(Login(username=ada["username"], secret=PIN))  # before any booking
    assert (await agent.expect(LoginResult)).ok
    start = at(0.5)
    booked = (await book(as_ada, start, 60, station_id=station)).json()
    watch = live_server.services.reservations
    assert await watch.tick(start + timedelta(minutes=10)) == (0, 0)  # not a no-show
    found = await reservation(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("CHECKED_IN", "CREDITED")
    ledger = await ledger_of(admin, ada["id"])
    assert sum(e["amount"] for e in ledger) == await balance_of(admin, ada["id"])
    assert sorted(e["amount"] for e in ledger if "deposit" in e["reason"]) == [-DEPOSIT, DEPOSIT]
    await agent.close()
