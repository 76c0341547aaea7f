"""Money that fits (issue 11 §3): 64-bit columns, a configured maximum per amount, and
strict JSON integers for money and counts. Each ran into a 500 on PostgreSQL before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gameops.server.accounts.domain import check_amount
from gameops.server.errors import Unprocessable
from gameops.server.schemas import MAX_MONEY
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import (
    API,
    balance_of,
    create_customer,
    funded_customer,
    ledger_of,
    pc_station,
    top_up,
)

MILLION_AN_HOUR = 100_000_000  # $1,000,000.00 in cents


async def test_a_24_million_dollar_start_is_sold_not_a_500(admin: httpx.AsyncClient) -> None:
    station = await pc_station(admin, rate=MILLION_AN_HOUR)
    sale = {"station_id": station, "duration_minutes": 24 * 60}
    quote = await admin.get(
        f"{API}/pricing/quote", params={"station_id": station, "minutes": 24 * 60}
    )
    assert quote.status_code == 200 and quote.json()["amount"] == 2_400_000_000
    started = await admin.post(f"{API}/sessions/start", json=sale)
    assert started.status_code == 201, started.text
    assert started.json()["amount_total"] == 2_400_000_000
    assert started.json()["payment"]["amount"] == 2_400_000_000


async def test_balances_go_past_32_bits(admin: httpx.AsyncClient) -> None:
    customer = await funded_customer(admin, 3_000_000_000)
    assert (await top_up(admin, customer, 2_000_000_000)).status_code == 201
    assert await balance_of(admin, customer) == 5_000_000_000
    station = await pc_station(admin, rate=MILLION_AN_HOUR)
    sale = {
        "station_id": station,
        "duration_minutes": 24 * 60,
        "user_id": customer,
        "payment_method": "BALANCE",
    }
    assert (await admin.post(f"{API}/sessions/start", json=sale)).status_code == 201
    assert await balance_of(admin, customer) == 2_600_000_000
    assert (await ledger_of(admin, customer))[0]["balance_after"] == 2_600_000_000


@pytest.fixture
async def capped(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = server_settings(database_url, tmp_path / "data", max_amount=1_000_000)
    server = LiveServer(settings)
    await server.start()
    yield await server.admin_client()
    await server.close()


async def test_amounts_over_the_configured_maximum_are_422(capped: httpx.AsyncClient) -> None:
    admin = capped
    customer = (await create_customer(admin))["id"]
    over = await top_up(admin, customer, 1_000_001)
    assert over.status_code == 422, over.text
    assert "maximum of 1000000" in over.json()["detail"] and over.json()["maximum"] == 1_000_000
    assert (await top_up(admin, customer, 1_000_000)).status_code == 201
    adjustment = {"amount": -1_000_001, "reason": "typo"}
    refused = await admin.post(f"{API}/users/{customer}/adjustments", json=adjustment)
    assert refused.status_code == 422, refused.text
    station = await pc_station(admin, rate=MILLION_AN_HOUR)
    sale = {"station_id": station, "duration_minutes": 60}
    priced_over = await admin.post(f"{API}/sessions/start", json=sale)
    assert priced_over.status_code == 422 and "the price" in priced_over.json()["detail"]
    sessions = await admin.get(f"{API}/sessions", params={"station_id": station})
    assert sessions.json()["items"] == []  # nothing sold, nothing half-written
    assert await balance_of(admin, customer) == 1_000_000


async def test_money_and_counts_are_strict_json_integers(admin: httpx.AsyncClient) -> None:
    customer = (await create_customer(admin))["id"]
    station = await pc_station(admin)
    for amount in (True, "100", 100.0, "1e3", None, 2**63, -(2**63) - 1):
        for path, body in (
            (f"/users/{customer}/topups", {"amount": amount}),
            (f"/users/{customer}/adjustments", {"amount": amount, "reason": "test"}),
            ("/sessions/start", {"station_id": station, "duration_minutes": amount}),
            ("/sessions/start", {"station_id": station, "duration_minutes": 60, "x": amount}),
            ("/stations", {"name": "PC-strict", "type": "PC", "hourly_rate": amount}),
        ):
            response = await admin.post(API + path, json=body)
            expected = 201 if "x" in body else 422  # an unknown field is ignored
            assert response.status_code == expected, (path, amount, response.text)
            if expected == 201:
                stop = await admin.delete(f"{API}/sessions/{response.json()['id']}")
                assert stop.status_code == 200, stop.text
    assert await balance_of(admin, customer) == 0


async def test_minutes_far_out_of_range_are_422(admin: httpx.AsyncClient) -> None:
    """-2**31 minutes made a date out of range (500) before the duration was checked."""
    station = await pc_station(admin)
    session = (
        await admin.post(
            f"{API}/sessions/start", json={"station_id": station, "duration_minutes": 60}
        )
    ).json()
    for minutes in (-(2**31) + 1, 2**31 - 1):
        sale = {"station_id": station, "duration_minutes": minutes}
        assert (await admin.post(f"{API}/sessions/start", json=sale)).status_code == 422
        extension = {"additional_minutes": minutes}
        extended = await admin.put(f"{API}/sessions/{session['id']}/extend", json=extension)
        assert extended.status_code == 422, extended.text


def test_check_amount_both_ways() -> None:
    check_amount(100, 100)
    check_amount(-100, 100)
    for amount in (101, -101):
        with pytest.raises(Unprocessable):
            check_amount(amount, 100)
    assert MAX_MONEY == 2**53 - 1


async def test_till_amounts_are_bounded_too(admin: httpx.AsyncClient) -> None:
    """schemathesis: a shift correction of 1.8e22 was a 500 on PostgreSQL."""
    shift = await admin.post(f"{API}/shifts", json={"count": {"2000": 1}})
    assert shift.status_code == 201, shift.text
    path = f"{API}/shifts/{shift.json()['id']}/corrections"
    for amount in (18128696037097219293184, True, "5"):
        response = await admin.post(path, json={"amount": amount, "reason": "found"})
        assert response.status_code == 422, response.text
    huge_count = {"count": {"100000000": 10**20}}
    assert (await admin.post(f"{API}/shifts", json=huge_count)).status_code == 422
