"""The REST API: auth and roles, stations, sessions, events, errors, health."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from gameops.server.db.engine import create_engine, create_sessionmaker
from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.support.sessions import start_session

API = "/api/v1"


async def _operator(live_server: LiveServer, admin: httpx.AsyncClient) -> httpx.AsyncClient:
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    return live_server.client(await live_server.login("op1", "operator-pass-1"))


async def _pc(admin: httpx.AsyncClient, name: str = "PC-A", rate: int = 600) -> str:
    response = await admin.post(
        f"{API}/stations", json={"name": name, "type": "PC", "hourly_rate": rate}
    )
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id


# --- auth ------------------------------------------------------------------------------


async def test_login_refresh_and_me(live_server: LiveServer) -> None:
    client = live_server.client()
    response = await client.post(
        f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 30 * 60

    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    me = await live_server.client(refreshed.json()["access_token"]).get(f"{API}/auth/me")
    assert me.json()["username"] == "admin" and me.json()["role"] == "ADMIN"

    # An access token is not a refresh token, and the other way round.
    wrong_kind = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    assert wrong_kind.status_code == 401
    as_access = await live_server.client(tokens["refresh_token"]).get(f"{API}/auth/me")
    assert as_access.status_code == 401


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong-password"), ("nobody", "whatever-pass")]
)
async def test_login_refused_with_one_message(
    live_server: LiveServer, username: str, password: str
) -> None:
    response = await live_server.client().post(
        f"{API}/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect username or password"}


async def test_every_api_route_but_login_needs_a_token(live_server: LiveServer) -> None:
    client = live_server.client()
    for method, path in [
        ("GET", "/stations"),
        ("POST", "/sessions/start"),
        ("GET", "/sessions"),
        ("GET", "/events"),
        ("GET", "/users"),
    ]:
        response = await client.request(method, API + path)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Not authenticated"}
    forged = await live_server.client("not-a-jwt").get(f"{API}/stations")
    assert forged.status_code == 401 and forged.json()["detail"] == "Invalid token"


async def test_operator_runs_sessions_but_not_stations_or_staff(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    operator = await _operator(live_server, admin)
    station_id = await _pc(admin)
    denied = await operator.post(
        f"{API}/stations", json={"name": "X", "type": "PC", "hourly_rate": 1}
    )
    assert denied.status_code == 403 and "ADMIN" in denied.json()["detail"]
    assert (await operator.get(f"{API}/users")).status_code == 403
    assert (await operator.post(f"{API}/stations/{station_id}/agent-token")).status_code == 403
    await start_session(operator, station_id, minutes=10)
    assert (await operator.get(f"{API}/stations")).status_code == 200


async def test_disabled_staff_lose_access(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    operator = await _operator(live_server, admin)
    users = (await admin.get(f"{API}/users")).json()["items"]
    op_id = next(u["id"] for u in users if u["username"] == "op1")
    patched = await admin.patch(f"{API}/users/{op_id}", json={"is_active": False})
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert (await operator.get(f"{API}/stations")).status_code == 401
    me = (await admin.get(f"{API}/auth/me")).json()
    self_disable = await admin.patch(f"{API}/users/{me['id']}", json={"is_active": False})
    assert self_disable.status_code == 409


# --- stations --------------------------------------------------------------------------


async def test_station_crud_and_events(admin: httpx.AsyncClient) -> None:
    station_id = await _pc(admin, "PC-01", 750)
    duplicate = await admin.post(
        f"{API}/stations", json={"name": "PC-01", "type": "PC", "hourly_rate": 1}
    )
    assert duplicate.status_code == 409 and "PC-01" in duplicate.json()["detail"]

    patched = await admin.patch(
        f"{API}/stations/{station_id}", json={"hourly_rate": 900, "zone": "VIP"}
    )
    assert patched.status_code == 200 and patched.json()["hourly_rate"] == 900
    listed = (await admin.get(f"{API}/stations", params={"per_page": 10})).json()
    assert listed["meta"] == {"page": 1, "per_page": 10, "total": 1, "pages": 1}
    assert listed["items"][0]["zone"] == "VIP" and listed["items"][0]["status"] == "OFFLINE"

    assert (await admin.delete(f"{API}/stations/{station_id}")).status_code == 204
    assert (await admin.get(f"{API}/stations/{station_id}")).status_code == 404
    # The name is free again once the station is archived.
    await _pc(admin, "PC-01")
    events = (await admin.get(f"{API}/events", params={"station_id": station_id})).json()
    kinds = {e["type"] for e in events["items"]}
    assert {"STATION_CREATED", "STATION_UPDATED", "STATION_DELETED"} <= kinds


async def test_console_station_is_online_without_an_agent(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        f"{API}/stations", json={"name": "PS5-1", "type": "CONSOLE", "hourly_rate": 400}
    )
    assert response.json()["status"] == "ONLINE"
    session = await start_session(admin, response.json()["id"], minutes=60)
    assert session["agent_connected"] is None and session["warnings"] == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "", "type": "PC", "hourly_rate": 1}, "name"),
        ({"name": "X", "type": "TOASTER", "hourly_rate": 1}, "type"),
        ({"name": "X", "type": "PC", "hourly_rate": -5}, "hourly_rate"),
        ({"name": "X", "type": "PC", "hourly_rate": 2.5}, "hourly_rate"),
        ({"name": "X", "type": "PC"}, "hourly_rate"),
    ],
)
async def test_bad_station_input_is_422_with_a_readable_detail(
    admin: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    response = await admin.post(f"{API}/stations", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and fragment in response.json()["detail"]


async def test_maintenance_blocks_sales(admin: httpx.AsyncClient) -> None:
    station_id = await _pc(admin)
    maintenance = await admin.patch(f"{API}/stations/{station_id}", json={"status": "MAINTENANCE"})
    assert maintenance.json()["status"] == "MAINTENANCE"
    refused = await admin.post(
        f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
    )
    assert refused.status_code == 409 and refused.json()["detail"] == "Station is in maintenance"
    back = await admin.patch(f"{API}/stations/{station_id}", json={"status": "ONLINE"})
    assert back.json()["status"] == "OFFLINE"  # back in service; its agent is not connected
    not_requestable = await admin.patch(
        f"{API}/stations/{station_id}", json={"status": "IN_SESSION"}
    )
    assert not_requestable.status_code == 409


# --- sessions --------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -10, 24 * 60 + 1])
async def test_bad_durations_are_refused(admin: httpx.AsyncClient, minutes: int) -> None:
    station_id = await _pc(admin)
    response = await admin.post(
        f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": minutes}
    )
    assert response.status_code == 422
    assert "duration_minutes" in response.json()["detail"]
    assert (await admin.get(f"{API}/sessions")).json()["meta"]["total"] == 0


async def test_session_errors(admin: httpx.AsyncClient) -> None:
    unknown = await admin.post(
        f"{API}/sessions/start", json={"station_id": str(uuid.uuid4()), "duration_minutes": 30}
    )
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Station not found"
    station_id = await _pc(admin)
    no_user = await admin.post(
        f"{API}/sessions/start",
        json={"station_id": station_id, "duration_minutes": 30, "user_id": str(uuid.uuid4())},
    )
    assert no_user.status_code == 404 and no_user.json()["detail"] == "User not found"
    card = await admin.post(
        f"{API}/sessions/start",
        json={"station_id": station_id, "duration_minutes": 30, "payment_method": "CARD"},
    )
    assert card.status_code == 422

    session = await start_session(admin, station_id)
    busy = await admin.post(
        f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
    )
    assert busy.status_code == 409 and busy.json()["detail"] == "Station is busy"
    too_long = await admin.put(
        f"{API}/sessions/{session['id']}/extend", json={"additional_minutes": 24 * 60}
    )
    assert too_long.status_code == 422
    assert (await admin.delete(f"{API}/sessions/{session['id']}")).status_code == 200
    again = await admin.delete(f"{API}/sessions/{session['id']}")
    assert again.status_code == 400 and again.json()["detail"] == "Session already ended"
    late = await admin.put(f"{API}/sessions/{session['id']}/extend", json={"additional_minutes": 5})
    assert late.status_code == 400 and late.json()["detail"] == "Cannot extend inactive session"
    missing = await admin.get(f"{API}/sessions/{uuid.uuid4()}")
    assert missing.status_code == 404
    malformed = await admin.get(f"{API}/sessions/not-a-uuid")
    assert malformed.status_code == 422


async def test_session_money_is_recorded_in_minor_units(admin: httpx.AsyncClient) -> None:
    station_id = await _pc(admin, rate=725)  # 7.25 an hour
    session = await start_session(admin, station_id, minutes=50)
    assert session["amount_total"] == 604  # 725 * 50 / 60 = 604.17, rounded half up
    assert session["payment"]["method"] == "CASH" and session["payment"]["status"] == "COMPLETED"
    assert session["currency"] == "USD" and session["payment"]["amount"] == 604
    extended = await admin.put(
        f"{API}/sessions/{session['id']}/extend", json={"additional_minutes": 10}
    )
    assert extended.json()["amount_total"] == 604 + 121
    events = (await admin.get(f"{API}/events", params={"type": "PAYMENT_COMPLETED"})).json()
    assert sorted(e["data"]["amount"] for e in events["items"]) == [121, 604]


async def test_fifty_concurrent_starts_sell_a_station_once(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await _pc(admin)
    clients = [await live_server.admin_client() for _ in range(5)]
    body = {"station_id": station_id, "duration_minutes": 30}
    responses = await asyncio.gather(
        *(clients[i % 5].post(f"{API}/sessions/start", json=body) for i in range(50))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 49, codes
    sessions = (await admin.get(f"{API}/sessions", params={"station_id": station_id})).json()
    assert sessions["meta"]["total"] == 1
    payments = (await admin.get(f"{API}/events", params={"type": "PAYMENT_COMPLETED"})).json()
    assert payments["meta"]["total"] == 1


async def test_sessions_list_filters_and_pages(admin: httpx.AsyncClient) -> None:
    stations = [await _pc(admin, f"PC-{i}") for i in range(3)]
    ids = [str((await start_session(admin, s))["id"]) for s in stations]
    await admin.delete(f"{API}/sessions/{ids[0]}")
    active = (await admin.get(f"{API}/sessions", params={"status": "ACTIVE"})).json()
    assert active["meta"]["total"] == 2
    assert all(s["remaining_seconds"] > 3500 for s in active["items"])
    page2 = (await admin.get(f"{API}/sessions", params={"per_page": 2, "page": 2})).json()
    assert page2["meta"] == {"page": 2, "per_page": 2, "total": 3, "pages": 2}
    assert len(page2["items"]) == 1
    by_station = (await admin.get(f"{API}/sessions", params={"station_id": stations[1]})).json()
    assert [s["id"] for s in by_station["items"]] == [ids[1]]
    bad_page = await admin.get(f"{API}/sessions", params={"page": 0})
    assert bad_page.status_code == 422 and "page" in bad_page.json()["detail"]


async def test_events_filter_since_and_after_id(admin: httpx.AsyncClient) -> None:
    station_id = await _pc(admin)
    everything = (await admin.get(f"{API}/events", params={"order": "asc"})).json()["items"]
    first_id = everything[0]["id"]
    later = (await admin.get(f"{API}/events", params={"after_id": first_id})).json()
    assert all(e["id"] > first_id for e in later["items"])
    naive = await admin.get(f"{API}/events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
    since = await admin.get(
        f"{API}/events", params={"since": "2000-01-01T00:00:00Z", "station_id": station_id}
    )
    assert since.json()["meta"]["total"] >= 1


# --- health ----------------------------------------------------------------------------


async def test_health_reports_the_failing_part(live_server: LiveServer) -> None:
    client = live_server.client()
    healthy = await client.get("/health")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "healthy" and healthy.json()["database"] == "ok"

    database = live_server.services.database
    working = database.sessionmaker
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    database.sessionmaker = create_sessionmaker(dead)
    try:
        broken = await client.get("/health")
    finally:
        database.sessionmaker = working
        await dead.dispose()
    assert broken.status_code == 503
    assert broken.json()["status"] == "unhealthy" and broken.json()["database"].startswith("error")


async def test_patch_refuses_null_for_required_fields(admin: httpx.AsyncClient) -> None:
    station_id = await _pc(admin, "PC-N")
    response = await admin.patch(f"{API}/stations/{station_id}", json={"name": None})
    assert response.status_code == 422 and "name cannot be null" in response.json()["detail"]
    unchanged = (await admin.get(f"{API}/stations/{station_id}")).json()
    assert unchanged["name"] == "PC-N"
    zone_cleared = await admin.patch(f"{API}/stations/{station_id}", json={"zone": None})
    assert zone_cleared.status_code == 200 and zone_cleared.json()["zone"] is None


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sessions", {"page": 10**24}),
        ("/users", {"page": 36042116378836987904, "per_page": 2}),
        ("/events", {"after_id": 18446744073709551617}),
    ],
)
async def test_absurd_numbers_are_422_not_500(
    admin: httpx.AsyncClient, path: str, params: dict[str, int]
) -> None:
    # Found by schemathesis: these overflowed the SQL integer and crashed the request.
    response = await admin.get(API + path, params=params)
    assert response.status_code == 422
    assert "less than or equal" in response.json()["detail"]
