"""GET /api/v1/floor: every station with its active session, customer and alert, in one call."""

from __future__ import annotations

import httpx

from gameops.protocol import Tamper
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session

API = "/api/v1"


async def _station(admin: httpx.AsyncClient, name: str, zone: str | None, type: str = "PC") -> str:
    body = {"name": name, "type": type, "hourly_rate": 600, "zone": zone}
    response = await admin.post(f"{API}/stations", json=body)
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id


async def _customer(live_server: LiveServer, admin: httpx.AsyncClient) -> str:
    """A customer account; until the customers API lands (issue 4), made as a staff user and
    switched to the CUSTOMER role."""
    body = {"username": "cust1", "password": "customer-pass-1", "full_name": "Ada Lovelace"}
    created = await admin.post(f"{API}/users", json=body)
    assert created.status_code == 201, created.text
    patched = await admin.patch(f"{API}/users/{created.json()['id']}", json={"role": "CUSTOMER"})
    assert patched.status_code == 200, patched.text
    user_id: str = created.json()["id"]
    return user_id


async def test_floor_lists_stations_by_zone_with_active_sessions(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    busy = await _station(admin, "PC-02", "Main")
    await _station(admin, "PC-01", "Main")
    await _station(admin, "PS5-1", "Lounge", type="CONSOLE")
    archived = await _station(admin, "OLD", "Main")
    assert (await admin.delete(f"{API}/stations/{archived}")).status_code == 204
    customer = await _customer(live_server, admin)
    session = await start_session(admin, busy, minutes=30, user_id=customer)

    response = await admin.get(f"{API}/floor")
    assert response.status_code == 200, response.text
    floor = response.json()
    assert [s["name"] for s in floor["stations"]] == ["PS5-1", "PC-01", "PC-02"]
    by_name = {s["name"]: s for s in floor["stations"]}
    assert by_name["PC-01"]["session"] is None and by_name["PC-01"]["status"] == "OFFLINE"
    assert by_name["PS5-1"]["status"] == "ONLINE" and by_name["PS5-1"]["type"] == "CONSOLE"
    active = by_name["PC-02"]["session"]
    assert by_name["PC-02"]["status"] == "IN_SESSION"
    assert active["id"] == session["id"] and active["customer_name"] == "Ada Lovelace"
    assert active["customer_id"] == customer and active["booked_minutes"] == 30
    assert active["status"] == "ACTIVE" and active["pending_payment_id"] is None
    assert 29 * 60 < active["remaining_seconds"] <= 30 * 60
    assert active["amount_total"] == 300 and floor["server_time"].endswith("Z")

    # Just the stations an event touched: the dashboard re-reads these, not the floor.
    some = await admin.get(f"{API}/floor", params={"station_id": [busy, archived]})
    assert some.status_code == 200, some.text
    [only] = some.json()["stations"]  # the archived one is left out
    assert only["id"] == busy and only["session"]["id"] == session["id"]
    bad = await admin.get(f"{API}/floor", params={"station_id": "not-a-uuid"})
    assert bad.status_code == 422


async def test_floor_forgets_ended_sessions_and_shows_recent_alerts(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, token = await live_server.create_pc_station("PC-09")
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    session = await start_session(admin, station_id, minutes=10)
    assert (await admin.delete(f"{API}/sessions/{session['id']}")).status_code == 200
    await agent.send(Tamper(kind="overlay_killed", detail="overlay process ended"))

    station = None
    for _ in range(50):  # the tamper report is recorded as the agent's message is handled
        station = (await admin.get(f"{API}/floor")).json()["stations"][0]
        if station["alert"]:
            break
    assert station is not None and station["session"] is None
    assert station["status"] == "ONLINE" and station["agent_connected"] is True
    assert station["alert"]["type"] == "AGENT_TAMPER"
    assert station["alert"]["data"] == {"kind": "overlay_killed", "detail": "overlay process ended"}
    await agent.close()


async def test_floor_is_for_staff_only(live_server: LiveServer, admin: httpx.AsyncClient) -> None:
    assert (await live_server.client().get(f"{API}/floor")).status_code == 401
    await _customer(live_server, admin)
    customer = live_server.client(await live_server.login("cust1", "customer-pass-1"))
    response = await customer.get(f"{API}/floor")
    assert response.status_code == 403
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    operator = live_server.client(await live_server.login("op1", "operator-pass-1"))
    assert (await operator.get(f"{API}/floor")).status_code == 200
