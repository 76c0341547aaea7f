"""Booking, the deposit and cancelling over the real API (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx

from tests.server.reservations.conftest import DEPOSIT, at, book, member, pc
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, events_of, ledger_of


async def test_a_member_books_a_pc_and_pays_the_deposit_from_the_balance(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-01")
    ada, as_ada = await member(live_server, admin, 2000)
    response = await book(as_ada, at(3), 90, station_id=station)
    assert response.status_code == 201, response.text
    booked = response.json()
    assert (booked["station_name"], booked["status"], booked["deposit"]) == (
        "PC-01",
        "BOOKED",
        DEPOSIT,
    )
    assert booked["customer_name"] == "Ada Player" and booked["deposit_outcome"] == "HELD"
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
    ledger = await ledger_of(admin, ada["id"])
    assert [(e["kind"], e["amount"]) for e in ledger if e["kind"] == "DEBIT"] == [
        ("DEBIT", -DEPOSIT)
    ]
    assert sum(e["amount"] for e in ledger) == 2000 - DEPOSIT
    mine = (await as_ada.get("/api/v1/me/reservations")).json()
    assert [r["id"] for r in mine] == [booked["id"]]
    (line,) = await events_of(admin, "RESERVATION_BOOKED")
    assert line["station_id"] == station and line["data"]["deposit"] == DEPOSIT


async def test_an_overlap_is_refused_and_back_to_back_is_fine(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-02")
    _, as_ada = await member(live_server, admin, 2000)
    bob, as_bob = await member(live_server, admin, 2000, "Bob Gamer")
    assert (await book(as_ada, at(2), 60, station_id=station)).status_code == 201
    overlap = await book(as_bob, at(2.5), 60, station_id=station)
    assert overlap.status_code == 409, overlap.text
    assert overlap.json()["detail"] == "PC-02 is booked then; choose another time"
    assert await balance_of(admin, bob["id"]) == 2000  # nothing taken for a refused booking
    assert (await book(as_bob, at(3), 60, station_id=station)).status_code == 201  # from its end
    assert (await book(as_bob, at(1), 60, station_id=station)).status_code == 201  # to its start


async def test_any_pc_in_a_zone_takes_a_free_one_and_says_which(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    first = await pc(admin, "VIP-1", zone="VIP")
    second = await pc(admin, "VIP-2", zone="VIP")
    _, as_ada = await member(live_server, admin, 5000)
    _, as_bob = await member(live_server, admin, 5000, "Bob Gamer")
    _, as_cy = await member(live_server, admin, 5000, "Cy Clone")
    one = (await book(as_ada, at(4), 60, zone="VIP")).json()
    two = await book(as_bob, at(4), 60, zone="VIP")
    assert two.status_code == 201, two.text
    assert {one["station_id"], two.json()["station_id"]} == {first, second}
    assert two.json()["message"] == "VIP-2 (the free PC picked in VIP) is booked for Bob Gamer"
    full = await book(as_cy, at(4.5), 30, zone="VIP")
    assert (full.status_code, full.json()["detail"]) == (
        409,
        "No PC in 'VIP' is free then; choose another time",
    )


async def test_staff_book_at_the_desk_for_a_customer(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-03")
    ada, _ = await member(live_server, admin, 1000)
    nobody = await book(admin, at(1), 60, station_id=station)
    assert (nobody.status_code, nobody.json()["detail"]) == (
        422,
        "user_id: the customer to book for",
    )
    response = await book(admin, at(1), 60, station_id=station, user_id=ada["id"])
    assert response.status_code == 201, response.text
    day = (await admin.get("/api/v1/reservations", params={"day": at(1).date().isoformat()})).json()
    assert [r["id"] for r in day] == [response.json()["id"]]  # the venue's clock is UTC here
    assert (await admin.get("/api/v1/me/reservations")).status_code == 403  # staff: no /me


async def test_bad_bookings_are_4xx_with_a_reason(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-04")
    console = (
        await admin.post(
            "/api/v1/stations", json={"name": "PS5", "type": "CONSOLE", "hourly_rate": 1}
        )
    ).json()["id"]
    poor, as_poor = await member(live_server, admin, DEPOSIT - 1)
    _, as_ada = await member(live_server, admin, 5000)
    short = await book(as_poor, at(1), 60, station_id=station)
    assert (short.status_code, short.json()["detail"]) == (400, "Insufficient balance")
    assert short.json()["balance"] == DEPOSIT - 1
    assert (await as_poor.get("/api/v1/me/reservations")).json() == []  # rolled back whole
    past = await book(as_ada, at(-1), 60, station_id=station)
    assert (past.status_code, past.json()["detail"]) == (422, "That time has passed")
    assert (await book(as_ada, at(1), 5, station_id=station)).status_code == 422
    assert (await book(as_ada, at(24 * 40), 60, station_id=station)).status_code == 422
    assert (await book(as_ada, at(1), 60, station_id=console)).status_code == 201  # bookable
    both = await book(as_ada, at(1), 60, station_id=station, zone="VIP")
    assert both.status_code == 422
    naive = await as_ada.post(
        "/api/v1/reservations",
        json={"starts_at": "2030-01-01T18:00:00", "minutes": 60, "station_id": station},
    )
    assert naive.status_code == 422
    other = await book(as_ada, at(1), 60, station_id=station, user_id=poor["id"])
    assert other.status_code == 403


async def test_cancel_rules_and_the_deposit(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station = await pc(admin, "PC-05")
    ada, as_ada = await member(live_server, admin, 2000)
    _, as_bob = await member(live_server, admin, 2000, "Bob Gamer")
    booked = (await book(as_ada, at(2), 60, station_id=station)).json()
    stranger = await as_bob.post(f"/api/v1/reservations/{booked['id']}/cancel")
    assert stranger.status_code == 404  # not theirs: not even said to exist
    cancelled = await as_ada.post(f"/api/v1/reservations/{booked['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["deposit_outcome"]) == (
        "CANCELLED",
        "REFUNDED",
    )
    assert await balance_of(admin, ada["id"]) == 2000
    again = await as_ada.post(f"/api/v1/reservations/{booked['id']}/cancel")
    assert (again.status_code, again.json()["detail"]) == (409, "This booking is cancelled already")
    # The slot is free again for someone else.
    assert (await book(as_bob, at(2), 60, station_id=station)).status_code == 201

    started = (await book(as_ada, at(0), 60, station_id=await pc(admin, "PC-06"))).json()
    late = await as_ada.post(f"/api/v1/reservations/{started['id']}/cancel")
    assert (late.status_code, late.json()["detail"]) == (
        409,
        "The booking has started; please ask at the front desk",
    )
    keep = await as_ada.post(
        f"/api/v1/reservations/{started['id']}/cancel", json={"keep_deposit": True}
    )
    assert keep.status_code == 422  # only staff may
    kept = await admin.post(
        f"/api/v1/reservations/{started['id']}/cancel", json={"keep_deposit": True}
    )
    assert kept.json()["deposit_outcome"] == "KEPT"
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
    ledger = await ledger_of(admin, ada["id"])
    assert sum(e["amount"] for e in ledger) == 2000 - DEPOSIT
    lines = await events_of(admin, "RESERVATION_CANCELLED")
    assert sorted(line["data"]["outcome"] for line in lines) == ["KEPT", "REFUNDED"]


async def test_a_retried_booking_takes_one_deposit(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await pc(admin, "Z-1", zone="Z")
    await pc(admin, "Z-2", zone="Z")
    ada, as_ada = await member(live_server, admin, 2000)
    body = {"starts_at": at(6).isoformat(), "minutes": 60, "zone": "Z"}
    key = {"Idempotency-Key": "book-ada-1"}
    first = await as_ada.post("/api/v1/reservations", json=body, headers=key)
    again = await as_ada.post("/api/v1/reservations", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()  # the same booking, not a second PC
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len((await as_ada.get("/api/v1/me/reservations")).json()) == 1
    assert await balance_of(admin, ada["id"]) == 2000 - DEPOSIT
