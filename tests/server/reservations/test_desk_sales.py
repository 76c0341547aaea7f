"""Desk sales at a held station (SQLite and PostgreSQL): consoles are booked like PCs;
while a booking holds a station, staff sell there to its member (checked in, the deposit
credited first) and to anyone else only with an explicit override, which releases the
booking (deposit refunded or kept) with its own audit line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.server.reservations.conftest import DEPOSIT, RATE, at, book, member, pc
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, events_of, ledger_of


async def console(admin: httpx.AsyncClient, name: str = "PS5-1") -> str:
    body = {"name": name, "type": "CONSOLE", "hourly_rate": RATE}
    response = await admin.post("/api/v1/stations", json=body)
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id


async def sell(
    admin: httpx.AsyncClient, station: str, minutes: int, user: str | None, **more: Any
) -> httpx.Response:
    body = {
        "station_id": station,
        "duration_minutes": minutes,
        "user_id": user,
        "payment_method": "BALANCE" if user else "CASH",
        **more,
    }
    return await admin.post("/api/v1/sessions/start", json=body)


async def booking(admin: httpx.AsyncClient, booked: dict[str, Any]) -> dict[str, Any]:
    day = booked["starts_at"][:10]
    rows = (await admin.get("/api/v1/reservations", params={"day": day})).json()
    found: dict[str, Any] = next(r for r in rows if r["id"] == booked["id"])
    return found


async def test_a_console_is_booked_and_sold_at_the_desk_to_its_member_only(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await console(admin)
    options = (await admin.get("/api/v1/reservations/options")).json()
    assert {"id": station, "name": "PS5-1", "zone": None, "type": "CONSOLE"} in options["stations"]
    ada, as_ada = await member(live_server, admin, DEPOSIT)  # all of it goes on the deposit
    bob, _ = await member(live_server, admin, 2000, "Bob Gamer")
    start = at(0)  # held from now
    response = await book(as_ada, start, 60, station_id=station)
    assert response.status_code == 201, response.text
    booked = response.json()

    for someone in (bob["id"], None):  # another member, a guest paying cash
        refused = await sell(admin, station, 30, someone)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["detail"] == f"Reserved for Ada at {start:%H:%M}"
        assert (body["reservation_id"], body["customer_name"]) == (booked["id"], "Ada Player")
        assert (body["station_name"], body["deposit"]) == ("PS5-1", DEPOSIT)
    assert await balance_of(admin, bob["id"]) == 2000

    # Ada at the desk: her deposit comes back first and pays for five minutes (3.00).
    sold = await sell(admin, station, 5, ada["id"])
    assert sold.status_code == 201, sold.text
    found = await booking(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("CHECKED_IN", "CREDITED")
    assert await balance_of(admin, ada["id"]) == DEPOSIT - 300
    ledger = await ledger_of(admin, ada["id"])
    assert sum(e["amount"] for e in ledger) == DEPOSIT - 300
    (line,) = await events_of(admin, "RESERVATION_CHECKED_IN")
    assert line["session_id"] == sold.json()["id"] and line["data"]["credited"] == DEPOSIT
    assert line["actor_id"] is not None and line["actor_id"] != ada["id"]  # staff did it


async def test_a_console_no_show_is_released_and_a_sale_before_the_hold_is_fine(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await console(admin, "PS5-2")
    ada, as_ada = await member(live_server, admin, 2000)
    start = at(2)
    booked = (await book(as_ada, start, 60, station_id=station)).json()
    early = await sell(admin, station, 30, None)
    assert early.status_code == 201, early.text  # not held yet, and over before the booking
    assert early.json()["warnings"] == []
    watch = live_server.services.reservations
    assert await watch.tick(start - timedelta(minutes=15)) == (1, 0)  # held (no PC to tell)
    assert await watch.tick(start + timedelta(minutes=10)) == (0, 1)
    found = await booking(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("NO_SHOW", "KEPT")
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT


async def test_staff_override_a_held_pc_and_the_booking_is_released(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-30")
    ada, as_ada = await member(live_server, admin, 2000)
    bob, _ = await member(live_server, admin, 2000, "Bob Gamer")
    booked = (await book(as_ada, at(0), 60, station_id=station)).json()
    refused = await sell(admin, station, 30, bob["id"])
    assert refused.status_code == 409 and refused.json()["reservation_id"] == booked["id"]
    # An override must name the booking that holds the PC.
    stale = await sell(admin, station, 30, bob["id"], override_reservation_id=station)
    assert stale.status_code == 409 and stale.json()["reservation_id"] == booked["id"]
    sold = await sell(admin, station, 30, bob["id"], override_reservation_id=booked["id"])
    assert sold.status_code == 201, sold.text
    found = await booking(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("CANCELLED", "REFUNDED")
    assert await balance_of(admin, ada["id"]) == 2000  # her deposit came back
    (line,) = await events_of(admin, "RESERVATION_OVERRIDDEN")
    assert line["session_id"] == sold.json()["id"] and line["actor_id"] is not None
    assert (line["data"]["sold_to"], line["data"]["outcome"]) == ("Bob Gamer", "REFUNDED")


async def test_staff_override_for_a_guest_and_keep_the_deposit(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await console(admin, "PS5-3")
    ada, as_ada = await member(live_server, admin, 2000)
    booked = (await book(as_ada, at(0), 60, station_id=station)).json()
    override = {"override_reservation_id": booked["id"], "keep_deposit": True}
    sold = await sell(admin, station, 30, None, **override)
    assert sold.status_code == 201, sold.text
    found = await booking(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("CANCELLED", "KEPT")
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
    (line,) = await events_of(admin, "RESERVATION_OVERRIDDEN")
    assert (line["data"]["sold_to"], line["data"]["outcome"]) == ("a guest", "KEPT")


async def test_a_waiting_sale_moved_to_a_held_pc_follows_the_same_rule(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    off, held = await pc(admin, "PC-31"), await pc(admin, "PC-32")
    ada, as_ada = await member(live_server, admin, 2000)
    bob, _ = await member(live_server, admin, 2000, "Bob Gamer")
    booked = (await book(as_ada, at(0), 60, station_id=held)).json()
    waiting = await sell(admin, off, 30, bob["id"])  # PC-31 is off: the sale waits for it
    assert waiting.status_code == 201, waiting.text
    path = f"/api/v1/sessions/{waiting.json()['id']}/move"
    refused = await admin.post(path, json={"station_id": held})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == f"Reserved for Ada at {at(0):%H:%M}"
    moved = await admin.post(
        path, json={"station_id": held, "override_reservation_id": booked["id"]}
    )
    assert moved.status_code == 200, moved.text
    found = await booking(admin, booked)
    assert (found["status"], found["deposit_outcome"]) == ("CANCELLED", "REFUNDED")
    assert await balance_of(admin, ada["id"]) == 2000

    # Her own waiting sale moved to the PC booked for her checks her in.
    mine = (await book(as_ada, at(0), 60, station_id=off)).json()
    other = await pc(admin, "PC-33")
    hers = await sell(admin, other, 5, ada["id"])
    assert hers.status_code == 201, hers.text
    to_hers = await admin.post(
        f"/api/v1/sessions/{hers.json()['id']}/move", json={"station_id": off}
    )
    assert to_hers.status_code == 200, to_hers.text
    found = await booking(admin, mine)
    assert (found["status"], found["deposit_outcome"]) == ("CHECKED_IN", "CREDITED")
    assert await balance_of(admin, ada["id"]) == 2000 - 300  # the deposit back, 5 minutes paid


async def test_a_sale_before_the_hold_that_runs_into_a_booking_is_warned(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await console(admin, "PS5-4")
    ada, as_ada = await member(live_server, admin, 9000)
    start = at(1)
    assert (await book(as_ada, start, 60, station_id=station)).status_code == 201
    long = await sell(admin, station, 90, None)
    assert long.status_code == 201, long.text
    assert long.json()["warnings"] == [
        f"PS5-4 is booked for Ada from {start:%H:%M}: this session runs into it."
    ]
    short = await sell(admin, await console(admin, "PS5-5"), 30, None)
    assert short.json()["warnings"] == []
    await admin.delete(f"/api/v1/sessions/{long.json()['id']}")
    walk_in = await sell(admin, station, 30, None)
    assert walk_in.json()["warnings"] == []  # over before the booking
    extended = await admin.put(
        f"/api/v1/sessions/{walk_in.json()['id']}/extend",
        json={"additional_minutes": 60, "payment_method": "CASH"},
    )
    assert extended.status_code == 200, extended.text  # now it runs into it: warned
    assert extended.json()["warnings"] == [
        f"PS5-4 is booked for Ada from {start:%H:%M}: this session runs into it."
    ]
    await admin.delete(f"/api/v1/sessions/{walk_in.json()['id']}")
    hers = await sell(admin, station, 90, ada["id"])  # her own booking: nothing to warn of
    assert hers.status_code == 201, hers.text
    assert hers.json()["warnings"] == []
