"""Paying for sessions from a prepaid balance, and the balance under concurrency."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets
from sqlalchemy import func, select

from gameops.server.accounts import service as accounts
from gameops.server.accounts.domain import LedgerKind
from gameops.server.db.models import LedgerEntry, Payment, User
from tests.support.live_server import LiveServer
from tests.support.money import (
    API,
    balance_of,
    create_customer,
    events_of,
    funded_customer,
    ledger_of,
    pc_station,
)


async def _start(
    admin: httpx.AsyncClient, station_id: str, user_id: str, minutes: int
) -> httpx.Response:
    body = {
        "station_id": station_id,
        "duration_minutes": minutes,
        "user_id": user_id,
        "payment_method": "BALANCE",
    }
    return await admin.post(f"{API}/sessions/start", json=body)


async def test_balance_pays_for_start_and_extension(admin: httpx.AsyncClient) -> None:
    station_id = await pc_station(admin, rate=600)
    user_id = await funded_customer(admin, 1000)

    started = await _start(admin, station_id, user_id, 60)
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["payment"]["method"] == "BALANCE" and session["payment"]["amount"] == 600
    extended = await admin.put(
        f"{API}/sessions/{session['id']}/extend",
        json={"additional_minutes": 30, "payment_method": "BALANCE"},
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["amount_total"] == 900

    assert await balance_of(admin, user_id) == 100
    ledger = await ledger_of(admin, user_id)
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger] == [
        ("DEBIT", -300, 100),
        ("DEBIT", -600, 400),
        ("TOPUP", 1000, 1000),
    ]
    assert {e["session_id"] for e in ledger[:2]} == {session["id"]}
    debits = await events_of(admin, "BALANCE_DEBIT")
    assert sorted(e["data"]["amount"] for e in debits) == [-600, -300]


async def test_short_balance_is_400_with_failed_payment_and_no_session(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await pc_station(admin, rate=600)
    user_id = await funded_customer(admin, 500)

    refused = await _start(admin, station_id, user_id, 60)
    assert refused.status_code == 400
    body = refused.json()
    assert body["detail"] == "Insufficient balance"
    assert (body["balance"], body["price"], body["currency"]) == (500, 600, "USD")

    async with live_server.services.database.sessionmaker() as db:
        payment = await db.get(Payment, uuid.UUID(body["payment_id"]))
    assert payment is not None and payment.status == "FAILED" and payment.session_id is None
    assert payment.method == "BALANCE" and payment.amount == 600
    assert (await admin.get(f"{API}/sessions")).json()["meta"]["total"] == 0
    station = (await admin.get(f"{API}/stations/{station_id}")).json()
    assert station["status"] != "IN_SESSION"
    assert await balance_of(admin, user_id) == 500
    [failed] = await events_of(admin, "PAYMENT_FAILED")
    assert failed["data"]["payment_id"] == body["payment_id"]
    # Enough money now: the same station sells.
    assert (await _start(admin, station_id, user_id, 50)).status_code == 201


async def test_short_balance_on_extension_keeps_the_session_as_it_was(
    admin: httpx.AsyncClient,
) -> None:
    station_id = await pc_station(admin, rate=600)
    user_id = await funded_customer(admin, 700)
    session = (await _start(admin, station_id, user_id, 60)).json()
    refused = await admin.put(
        f"{API}/sessions/{session['id']}/extend",
        json={"additional_minutes": 30, "payment_method": "BALANCE"},
    )
    assert refused.status_code == 400
    assert (refused.json()["balance"], refused.json()["price"]) == (100, 300)
    after = (await admin.get(f"{API}/sessions/{session['id']}")).json()
    assert after["scheduled_end_at"] == session["scheduled_end_at"]
    assert after["amount_total"] == 600


async def test_balance_needs_a_customer(admin: httpx.AsyncClient) -> None:
    station_id = await pc_station(admin)
    response = await admin.post(
        f"{API}/sessions/start",
        json={"station_id": station_id, "duration_minutes": 30, "payment_method": "BALANCE"},
    )
    assert response.status_code == 422 and "user_id" in response.json()["detail"]
    nobody = await _start(admin, station_id, str(uuid.uuid4()), 30)
    assert nobody.status_code == 404


async def test_hundred_concurrent_debits_never_overdraw(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """100 transactions debit 70 each from 5,000 at the same time: exactly 71 succeed."""
    user_id = uuid.UUID(await funded_customer(admin, 5000))
    database = live_server.services.database

    async def debit() -> bool:
        try:
            async with database.transaction() as db:
                customer = await db.get(User, user_id)
                assert customer is not None
                movement = accounts.Movement(currency="USD", reason="race")
                await accounts.debit(db, customer, 70, LedgerKind.DEBIT, movement)
        except accounts.InsufficientBalance:
            return False
        return True

    results = await asyncio.gather(*(debit() for _ in range(100)))
    assert results.count(True) == 71
    async with database.sessionmaker() as db:
        customer = await db.get(User, user_id)
        ledger_sum = await db.scalar(
            select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == user_id)
        )
        lowest = await db.scalar(
            select(func.min(LedgerEntry.balance_after)).where(LedgerEntry.user_id == user_id)
        )
    assert customer is not None and customer.balance == 5000 - 71 * 70 == 30
    assert ledger_sum == customer.balance and lowest == 30


async def test_hundred_concurrent_debits_through_the_api(admin: httpx.AsyncClient) -> None:
    """The same race over HTTP: each request is its own transaction in the real server."""
    user_id = await funded_customer(admin, 5000)
    url = f"{API}/users/{user_id}/adjustments"
    answers = await asyncio.gather(
        *(admin.post(url, json={"amount": -70, "reason": "race"}) for _ in range(100))
    )
    assert sorted(a.status_code for a in answers) == [201] * 71 + [400] * 29
    assert await balance_of(admin, user_id) == 30
    ledger = await ledger_of(admin, user_id)
    assert sum(e["amount"] for e in ledger) == 30
    assert sorted(e["balance_after"] for e in ledger if e["kind"] == "ADJUSTMENT") == list(
        range(30, 5000, 70)
    )


async def test_concurrent_balance_sessions_on_many_stations_share_one_balance(
    admin: httpx.AsyncClient,
) -> None:
    """Ten stations sold at once from a balance that covers only four of them."""
    stations = [await pc_station(admin, rate=600) for _ in range(10)]
    user_id = await funded_customer(admin, 2400)
    answers = await asyncio.gather(*(_start(admin, s, user_id, 60) for s in stations))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 4 + [400] * 6
    assert await balance_of(admin, user_id) == 0
    assert len(await events_of(admin, "PAYMENT_FAILED")) == 6


async def test_ledger_rows_cannot_be_changed(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    user_id = uuid.UUID(await funded_customer(admin, 100))
    async with live_server.services.database.sessionmaker() as db:
        entry = await db.scalar(select(LedgerEntry).where(LedgerEntry.user_id == user_id))
        assert entry is not None
        entry.amount = 1_000_000
        with pytest.raises(RuntimeError, match="immutable"):
            await db.flush()


async def test_money_events_stream_on_the_dashboard_feed(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    url = f"{live_server.ws_url}/ws/dashboard?token={await live_server.login()}"
    async with websockets.connect(url) as feed:
        assert json.loads(await feed.recv())["type"] == "hello"
        station_id = await pc_station(admin, rate=600)
        user_id = await funded_customer(admin, 1000)
        assert (await _start(admin, station_id, user_id, 60)).status_code == 201
        seen: list[str] = []
        while "SESSION_CREATED" not in seen:  # the sale's last event
            seen.append(json.loads(await asyncio.wait_for(feed.recv(), 5))["event"]["type"])
    # The feed's handler notices a closed client only at its next event, and the server's
    # shutdown waits for it: give it one.
    await create_customer(admin)
    money = [kind for kind in seen if kind.startswith(("PAYMENT_", "BALANCE_"))]
    assert money == ["PAYMENT_COMPLETED", "BALANCE_TOPUP", "PAYMENT_COMPLETED", "BALANCE_DEBIT"]
