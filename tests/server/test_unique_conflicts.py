"""A value another row already holds is a 409, never a 500 (found by schemathesis: two
customers given the same card number)."""

from __future__ import annotations

import httpx

from tests.support.money import API, create_customer


async def test_a_taken_unique_value_is_409(admin: httpx.AsyncClient) -> None:
    first = await create_customer(admin)
    second = await create_customer(admin)
    card = {"card_number": "0000"}
    assert (await admin.patch(f"{API}/customers/{first['id']}", json=card)).status_code == 200
    taken = await admin.patch(f"{API}/customers/{second['id']}", json=card)
    assert taken.status_code == 409, taken.text
    assert "already" in taken.json()["detail"]
