"""Customer accounts, top-ups, adjustments, the ledger, and customers logging in."""

from __future__ import annotations

import uuid

import httpx

from tests.support.live_server import LiveServer
from tests.support.money import (
    API,
    balance_of,
    create_customer,
    events_of,
    funded_customer,
    ledger_of,
    top_up,
)


async def test_staff_create_find_and_update_customers(admin: httpx.AsyncClient) -> None:
    ann = await create_customer(
        admin, "ann", full_name="Ann Lee", phone="+1 555 0100", email="ann@example.com"
    )
    assert ann["balance"] == 0 and ann["is_member"] is False
    await create_customer(admin, "bob", full_name="Bob Stone")

    found = await admin.get(f"{API}/customers", params={"q": "lee"})
    assert [c["username"] for c in found.json()["items"]] == ["ann"]
    patched = await admin.patch(f"{API}/customers/{ann['id']}", json={"is_member": True})
    assert patched.status_code == 200 and patched.json()["is_member"] is True

    taken = await admin.post(f"{API}/customers", json={"username": "ann"})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    bad_email = await admin.post(f"{API}/customers", json={"username": "cy", "email": "nope"})
    assert bad_email.status_code == 422 and "email" in bad_email.json()["detail"]
    missing = await admin.get(f"{API}/customers/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["detail"] == "Customer not found"


async def test_cash_topup_credits_balance_with_ledger_row_and_events(
    admin: httpx.AsyncClient,
) -> None:
    customer = await create_customer(admin)
    response = await top_up(admin, customer["id"], 2500)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["customer"]["balance"] == 2500
    assert body["payment"]["method"] == "CASH" and body["payment"]["purpose"] == "TOPUP"
    assert body["payment"]["status"] == "COMPLETED"

    [entry] = await ledger_of(admin, customer["id"])
    assert entry["kind"] == "TOPUP" and entry["amount"] == 2500 and entry["balance_after"] == 2500
    assert entry["payment_id"] == body["payment"]["id"]
    [topup_event] = await events_of(admin, "BALANCE_TOPUP")
    assert topup_event["data"]["balance_after"] == 2500
    completed = await events_of(admin, "PAYMENT_COMPLETED")
    assert [e["data"]["payment_id"] for e in completed] == [body["payment"]["id"]]


async def test_topup_bad_input_is_refused_and_changes_nothing(admin: httpx.AsyncClient) -> None:
    customer = await create_customer(admin)
    for amount in (0, -500):
        refused = await top_up(admin, customer["id"], amount)
        assert refused.status_code == 422 and "positive" in refused.json()["detail"]
    euros = await top_up(admin, customer["id"], 500, currency="EUR")
    assert euros.status_code == 422
    assert euros.json()["detail"] == "Unknown currency 'EUR'; this venue takes USD"
    unknown = await top_up(admin, str(uuid.uuid4()), 500)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Customer not found"
    not_a_number = await top_up(admin, customer["id"], "ten")  # type: ignore[arg-type]
    assert not_a_number.status_code == 422 and "amount" in not_a_number.json()["detail"]
    assert await balance_of(admin, customer["id"]) == 0
    assert await ledger_of(admin, customer["id"]) == []


async def test_admin_adjustments_need_a_reason_and_never_go_below_zero(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    user_id = await funded_customer(admin, 1000)
    taken = await admin.post(
        f"{API}/users/{user_id}/adjustments", json={"amount": -300, "reason": "double top-up"}
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["customer"]["balance"] == 700
    assert taken.json()["entry"]["kind"] == "ADJUSTMENT"
    assert taken.json()["entry"]["reason"] == "double top-up"

    too_much = await admin.post(
        f"{API}/users/{user_id}/adjustments", json={"amount": -701, "reason": "oops"}
    )
    assert too_much.status_code == 400
    assert too_much.json() == {"detail": "Insufficient balance", "balance": 700, "price": 701}
    no_reason = await admin.post(f"{API}/users/{user_id}/adjustments", json={"amount": 5})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    zero = await admin.post(
        f"{API}/users/{user_id}/adjustments", json={"amount": 0, "reason": "x0x"}
    )
    assert zero.status_code == 400

    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    operator = live_server.client(await live_server.login("op1", "operator-pass-1"))
    forbidden = await operator.post(
        f"{API}/users/{user_id}/adjustments", json={"amount": 100, "reason": "gift"}
    )
    assert forbidden.status_code == 403
    assert len(await events_of(admin, "BALANCE_ADJUSTED")) == 1
    ledger = await ledger_of(admin, user_id)
    assert sum(e["amount"] for e in ledger) == await balance_of(admin, user_id) == 700


async def test_customer_logs_in_and_sees_only_own_account(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    user_id = await funded_customer(admin, 1200, username="kim", password="kim-secret-1")
    await funded_customer(admin, 999, username="lou")
    kim = live_server.client(await live_server.login("kim", "kim-secret-1"))

    me = await kim.get(f"{API}/customers/me")
    assert me.status_code == 200 and me.json()["id"] == user_id and me.json()["balance"] == 1200
    history = await kim.get(f"{API}/customers/me/ledger")
    assert [e["amount"] for e in history.json()["items"]] == [1200]
    assert (await kim.get(f"{API}/customers")).status_code == 403
    assert (await kim.get(f"{API}/customers/{user_id}")).status_code == 403
    assert (await kim.post(f"{API}/users/{user_id}/topups", json={"amount": 1})).status_code == 403
    staff_me = await admin.get(f"{API}/customers/me")
    assert staff_me.status_code == 403
