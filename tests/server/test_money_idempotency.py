"""Idempotency-Key: a retried request returns the first answer and never charges twice."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.money import (
    API,
    balance_of,
    create_customer,
    events_of,
    funded_customer,
    ledger_of,
    pc_station,
)


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_retried_start_returns_the_first_session_and_charges_once(
    admin: httpx.AsyncClient,
) -> None:
    station_id = await pc_station(admin, rate=600)
    body = {"station_id": station_id, "duration_minutes": 30}
    first = await admin.post(f"{API}/sessions/start", json=body, headers=_key("start-1"))
    again = await admin.post(f"{API}/sessions/start", json=body, headers=_key("start-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert first.headers["Idempotent-Replayed"] == "false"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await admin.get(f"{API}/sessions")).json()["meta"]["total"] == 1
    assert len(await events_of(admin, "PAYMENT_COMPLETED")) == 1


async def test_same_key_with_another_body_is_refused(admin: httpx.AsyncClient) -> None:
    station_id = await pc_station(admin)
    body = {"station_id": station_id, "duration_minutes": 30}
    assert (
        await admin.post(f"{API}/sessions/start", json=body, headers=_key("k-2"))
    ).status_code == 201
    other = await admin.post(
        f"{API}/sessions/start", json={**body, "duration_minutes": 45}, headers=_key("k-2")
    )
    assert other.status_code == 422
    assert "already used for a different request" in other.json()["detail"]
    elsewhere = await admin.post(
        f"{API}/users/{(await create_customer(admin))['id']}/topups",
        json={"amount": 100},
        headers=_key("k-2"),
    )
    assert elsewhere.status_code == 422


async def test_retried_extension_extends_once(admin: httpx.AsyncClient) -> None:
    station_id = await pc_station(admin, rate=600)
    session = (
        await admin.post(
            f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
        )
    ).json()
    url = f"{API}/sessions/{session['id']}/extend"
    answers = [
        await admin.put(url, json={"additional_minutes": 15}, headers=_key("ext-1"))
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["scheduled_end_at"] for a in answers} == {
        answers[0].json()["scheduled_end_at"]
    }
    assert (await admin.get(f"{API}/sessions/{session['id']}")).json()["extended_minutes"] == 15


async def test_concurrent_topups_with_one_key_credit_once(admin: httpx.AsyncClient) -> None:
    customer = await create_customer(admin)
    url = f"{API}/users/{customer['id']}/topups"
    answers = await asyncio.gather(
        *(admin.post(url, json={"amount": 500}, headers=_key("topup-1")) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["payment"]["id"] for a in answers}) == 1
    assert await balance_of(admin, customer["id"]) == 500
    assert len(await ledger_of(admin, customer["id"])) == 1


async def test_a_refusal_is_replayed_too(admin: httpx.AsyncClient) -> None:
    """The FAILED payment was committed with its answer: a retry must not record another."""
    station_id = await pc_station(admin, rate=600)
    user_id = await funded_customer(admin, 100)
    body = {
        "station_id": station_id,
        "duration_minutes": 60,
        "user_id": user_id,
        "payment_method": "BALANCE",
    }
    first = await admin.post(f"{API}/sessions/start", json=body, headers=_key("poor-1"))
    again = await admin.post(f"{API}/sessions/start", json=body, headers=_key("poor-1"))
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert len(await events_of(admin, "PAYMENT_FAILED")) == 1


async def test_an_error_is_not_stored_so_a_fixed_retry_runs(admin: httpx.AsyncClient) -> None:
    customer = await create_customer(admin)
    url = f"{API}/users/{customer['id']}/topups"
    assert (await admin.post(url, json={"amount": 0}, headers=_key("t-3"))).status_code == 422
    fixed = await admin.post(url, json={"amount": 300}, headers=_key("t-3"))
    assert fixed.status_code == 201 and fixed.headers["Idempotent-Replayed"] == "false"
    assert await balance_of(admin, customer["id"]) == 300
