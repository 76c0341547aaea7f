"""Helpers for the money tests: customers, top-ups, and reading the ledger back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

API = "/api/v1"


async def create_customer(
    staff: httpx.AsyncClient, username: str | None = None, **fields: Any
) -> dict[str, Any]:
    body = {"username": username or f"cust-{uuid.uuid4().hex[:8]}", **fields}
    response = await staff.post(f"{API}/customers", json=body)
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()
    return customer


async def top_up(
    staff: httpx.AsyncClient, user_id: str, amount: int, **extra: Any
) -> httpx.Response:
    return await staff.post(f"{API}/users/{user_id}/topups", json={"amount": amount, **extra})


async def funded_customer(staff: httpx.AsyncClient, amount: int, **fields: Any) -> str:
    customer = await create_customer(staff, **fields)
    response = await top_up(staff, customer["id"], amount)
    assert response.status_code == 201, response.text
    user_id: str = customer["id"]
    return user_id


async def balance_of(staff: httpx.AsyncClient, user_id: str) -> int:
    response = await staff.get(f"{API}/customers/{user_id}")
    assert response.status_code == 200, response.text
    balance: int = response.json()["balance"]
    return balance


async def ledger_of(staff: httpx.AsyncClient, user_id: str) -> list[dict[str, Any]]:
    response = await staff.get(f"{API}/customers/{user_id}/ledger", params={"per_page": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def events_of(admin: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    response = await admin.get(f"{API}/events", params={"type": event_type, "per_page": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def pc_station(admin: httpx.AsyncClient, rate: int = 600, **fields: Any) -> str:
    body = {"name": f"PC-{uuid.uuid4().hex[:6]}", "type": "PC", "hourly_rate": rate, **fields}
    response = await admin.post(f"{API}/stations", json=body)
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id
