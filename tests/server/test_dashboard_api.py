"""What the dashboard's screens need from the API: the sessions list's customer and payment
columns, every user's own password and language."""

from __future__ import annotations

import httpx

from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer
from tests.support.money import API, create_customer, events_of, funded_customer, pc_station
from tests.support.sessions import start_session


async def test_sessions_list_names_the_customer_and_how_it_was_paid(
    admin: httpx.AsyncClient,
) -> None:
    paying = await funded_customer(admin, 5000, full_name="Ann Lee")
    walk_in_station, member_station = await pc_station(admin), await pc_station(admin)
    walk_in = await start_session(admin, walk_in_station, 30)
    member = await start_session(
        admin, member_station, 30, user_id=paying, payment_method="BALANCE"
    )
    extended = await admin.put(
        f"{API}/sessions/{member['id']}/extend",
        json={"additional_minutes": 15, "payment_method": "CASH"},
    )
    assert extended.status_code == 200, extended.text

    listed = (await admin.get(f"{API}/sessions")).json()["items"]
    rows = {row["id"]: row for row in listed}
    assert rows[walk_in["id"]]["customer_name"] is None
    assert rows[walk_in["id"]]["payment_methods"] == ["CASH"]
    assert rows[member["id"]]["customer_name"] == "Ann Lee"
    assert rows[member["id"]]["payment_methods"] == ["BALANCE", "CASH"]

    nameless = await create_customer(admin, "nameless")
    await admin.post(f"{API}/users/{nameless['id']}/topups", json={"amount": 900})
    station = await pc_station(admin)
    await start_session(admin, station, 30, user_id=nameless["id"], payment_method="BALANCE")
    [row] = (await admin.get(f"{API}/sessions", params={"station_id": station})).json()["items"]
    assert row["customer_name"] == "nameless"


async def test_every_user_changes_their_own_password_with_the_current_one(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    wrong = await admin.post(
        f"{API}/users/me/password",
        json={"current_password": "not-it", "new_password": "a-new-password"},
    )
    assert (
        wrong.status_code == 400 and wrong.json()["detail"] == "The current password is not right"
    )
    short = await admin.post(
        f"{API}/users/me/password", json={"current_password": ADMIN_PASSWORD, "new_password": "x"}
    )
    assert short.status_code == 422
    changed = await admin.post(
        f"{API}/users/me/password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "a-new-password"},
    )
    assert changed.status_code == 204, changed.text

    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        old = await anonymous.post(
            f"{API}/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        new = await anonymous.post(
            f"{API}/auth/login", json={"username": ADMIN_USERNAME, "password": "a-new-password"}
        )
    assert old.status_code == 401 and new.status_code == 200
    # Every token issued before the change stops working: log in again.
    assert (await admin.get(f"{API}/auth/me")).status_code == 401
    admin.headers["Authorization"] = f"Bearer {new.json()['access_token']}"
    [audit] = [e for e in await events_of(admin, "USER_UPDATED") if "password" in e["data"]]
    assert audit["data"]["password"] == "changed" and audit["actor_id"] == audit["data"]["user_id"]


async def test_an_operator_picks_their_language(admin: httpx.AsyncClient) -> None:
    me = (await admin.get(f"{API}/auth/me")).json()
    assert me["language"] is None
    german = await admin.patch(f"{API}/users/me", json={"language": "de"})
    assert german.status_code == 200 and german.json()["language"] == "de"
    assert (await admin.get(f"{API}/auth/me")).json()["language"] == "de"
    klingon = await admin.patch(f"{API}/users/me", json={"language": "tlh"})
    assert klingon.status_code == 422 and "en" in klingon.json()["detail"]
    back = await admin.patch(f"{API}/users/me", json={"language": None})
    assert back.status_code == 200 and back.json()["language"] is None
