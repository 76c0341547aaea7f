"""Moving a booking to another time and/or station over the real API (SQLite and
PostgreSQL): the same overlap constraint and zone rule as booking, the member's cancel
rules, the deposit untouched, audited, ``Idempotency-Key`` honoured, and a held PC's login
view told when its booking moves away."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from gameops.protocol import StationInfo
from tests.server.reservations.conftest import DEPOSIT, RATE, at, book, member, pc
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import balance_of, events_of, ledger_of


async def move(
    client: httpx.AsyncClient, booking_id: str, key: str | None = None, **changes: Any
) -> httpx.Response:
    body = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changes.items()}
    headers = {"Idempotency-Key": key} if key else {}
    return await client.patch(f"/api/v1/reservations/{booking_id}", json=body, headers=headers)


async def test_a_member_moves_their_booking_and_the_deposit_stays(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    first, second = await pc(admin, "PC-40"), await pc(admin, "PC-41")
    ada, as_ada = await member(live_server, admin, 2000)
    booked = (await book(as_ada, at(2), 60, station_id=first)).json()
    later = at(5)
    moved = await move(as_ada, booked["id"], starts_at=later, minutes=90, station_id=second)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["id"], body["station_id"], body["status"]) == (booked["id"], second, "BOOKED")
    assert datetime.fromisoformat(body["starts_at"]) == later
    assert datetime.fromisoformat(body["ends_at"]) == later + timedelta(minutes=90)
    assert body["message"] == f"Moved: PC-41 at {later:%H:%M} for Ada Player"
    assert (body["deposit"], body["deposit_outcome"]) == (DEPOSIT, "HELD")
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
    debits = [e for e in await ledger_of(admin, ada["id"]) if e["kind"] != "TOPUP"]
    assert [e["amount"] for e in debits] == [-DEPOSIT]  # no second deposit, no refund
    (line,) = await events_of(admin, "RESERVATION_MOVED")
    assert (line["station_id"], line["data"]["from_station_id"]) == (second, first)
    assert line["data"]["by_staff"] is False
    (mine,) = (await as_ada.get("/api/v1/me/reservations")).json()
    assert (mine["station_id"], mine["ends_at"]) == (second, body["ends_at"])
    # The old slot is free again: Bob books it.
    _, as_bob = await member(live_server, admin, 2000, "Bob Gamer")
    assert (await book(as_bob, at(2), 60, station_id=first)).status_code == 201


async def test_an_overlapping_move_is_refused_by_the_database_and_changes_nothing(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-42")
    _, as_ada = await member(live_server, admin, 2000)
    _, as_bob = await member(live_server, admin, 2000, "Bob Gamer")
    mine = (await book(as_ada, at(2), 60, station_id=station)).json()
    assert (await book(as_bob, at(4), 60, station_id=station)).status_code == 201
    clash = await move(as_ada, mine["id"], starts_at=at(3.5))
    assert (clash.status_code, clash.json()["detail"]) == (
        409,
        "PC-42 is booked then; choose another time",
    )
    (kept,) = (await as_ada.get("/api/v1/me/reservations")).json()
    assert kept["starts_at"] == mine["starts_at"]
    assert (await move(as_ada, mine["id"], starts_at=at(3))).status_code == 200  # to its start
    assert (await move(as_ada, mine["id"], minutes=45)).status_code == 200  # within itself


async def test_a_retry_with_the_same_key_moves_once(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-43")
    _, as_ada = await member(live_server, admin, 2000)
    booked = (await book(as_ada, at(2), 60, station_id=station)).json()
    first = await move(as_ada, booked["id"], "move-1", starts_at=at(6))
    again = await move(as_ada, booked["id"], "move-1", starts_at=at(6))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(await events_of(admin, "RESERVATION_MOVED")) == 1
    other = await move(as_ada, booked["id"], "move-1", starts_at=at(7))
    assert other.status_code == 422  # the same key for another request


async def test_who_may_move_what_and_when(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-44")
    ps5 = (
        await admin.post(
            "/api/v1/stations", json={"name": "PS5-9", "type": "CONSOLE", "hourly_rate": RATE}
        )
    ).json()["id"]
    _, as_ada = await member(live_server, admin, 5000)
    _, as_bob = await member(live_server, admin, 5000, "Bob Gamer")
    now_booking = (await book(as_ada, at(0), 60, station_id=station)).json()  # started
    started = await move(as_ada, now_booking["id"], starts_at=at(3))
    assert (started.status_code, started.json()["detail"]) == (
        409,
        "The booking has started; please ask at the front desk",
    )
    assert (await move(as_bob, now_booking["id"], starts_at=at(3))).status_code == 404
    # Staff may move a started booking: to a console at the same time, then back, later.
    elsewhere = await move(admin, now_booking["id"], station_id=ps5)
    assert elsewhere.status_code == 200, elsewhere.text
    by_staff = await move(admin, now_booking["id"], starts_at=at(3), station_id=station)
    assert by_staff.status_code == 200, by_staff.text
    assert by_staff.json()["station_name"] == "PC-44"
    lines = await events_of(admin, "RESERVATION_MOVED")
    assert len(lines) == 2 and all(line["data"]["by_staff"] for line in lines)
    assert all(line["actor_id"] is not None for line in lines)
    assert (await move(as_ada, now_booking["id"], starts_at=at(-1))).status_code == 422
    assert (await move(as_ada, now_booking["id"], minutes=5)).status_code == 422
    assert (await move(as_ada, now_booking["id"])).status_code == 422  # nothing to change
    cancelled = await as_ada.post(f"/api/v1/reservations/{now_booking['id']}/cancel")
    assert cancelled.status_code == 200
    gone = await move(admin, now_booking["id"], starts_at=at(4))
    assert (gone.status_code, gone.json()["detail"]) == (
        409,
        "This booking is cancelled; it cannot be moved",
    )


async def test_a_zone_booking_moved_in_time_takes_another_free_pc_of_its_zone(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await pc(admin, "VIP-1", zone="VIP")
    second = await pc(admin, "VIP-2", zone="VIP")
    _, as_ada = await member(live_server, admin, 5000)
    _, as_bob = await member(live_server, admin, 5000, "Bob Gamer")
    mine = (await book(as_ada, at(2), 60, zone="VIP")).json()
    assert mine["station_name"] == "VIP-1"
    assert (await book(as_bob, at(6), 60, station_id=mine["station_id"])).status_code == 201
    moved = await move(as_ada, mine["id"], starts_at=at(6))
    assert moved.status_code == 200, moved.text
    assert (moved.json()["station_id"], moved.json()["zone"]) == (second, "VIP")
    _, as_cy = await member(live_server, admin, 5000, "Cy Clone")
    assert (await book(as_cy, at(8), 60, station_id=second)).status_code == 201
    assert (await book(as_bob, at(8), 60, station_id=mine["station_id"])).status_code == 201
    full = await move(as_ada, mine["id"], starts_at=at(8))
    assert (full.status_code, full.json()["detail"]) == (
        409,
        "No PC in 'VIP' is free then; choose another time",
    )


async def test_a_held_pc_is_told_when_its_booking_moves_away(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station, token = await create_station_with_token(admin, "PC-45", RATE)
    agent = await ScriptedAgent.connect(live_server.ws_url, station, token)
    await agent.say_hello()
    assert (await agent.expect(StationInfo)).reserved is None
    _, as_ada = await member(live_server, admin, 2000)
    booked = (await book(as_ada, at(0) + timedelta(minutes=10), 60, station_id=station)).json()
    assert (await agent.expect(StationInfo)).reserved is not None  # held from now
    assert (await move(as_ada, booked["id"], starts_at=at(3))).status_code == 200
    assert (await agent.expect(StationInfo)).reserved is None  # free until the notice
    assert await live_server.services.reservations.tick(at(3) - timedelta(minutes=15)) == (1, 0)
    assert (await agent.expect(StationInfo)).reserved is not None  # held again, later
    await agent.close()


async def test_concurrent_moves_onto_one_slot_one_wins(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """Eight bookings on eight PCs are moved at once onto one slot of one PC: the database
    lets exactly one through (the move has no pre-check), the others are 409 and stay put."""
    target = await pc(admin, "PC-GOAL")
    booked = []
    for n in range(8):
        _, client = await member(live_server, admin, 1000, f"Mover {n}")
        response = await book(client, at(2), 60, station_id=await pc(admin, f"PC-M{n}"))
        booked.append((client, response.json()))
    answers = await asyncio.gather(
        *(
            move(client, row["id"], starts_at=at(5) + timedelta(minutes=n), station_id=target)
            for n, (client, row) in enumerate(booked)
        )
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * 7, [a.text for a in answers]
    day = (await admin.get("/api/v1/reservations", params={"day": at(5).date()})).json()
    assert len([r for r in day if r["station_id"] == target]) == 1
    assert len(await events_of(admin, "RESERVATION_MOVED")) == 1
