"""Rate plans through the API: admin CRUD with events, quotes, and sales charging the quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.money import API, create_customer, events_of, funded_customer, pc_station


def vip_plan(**overrides: Any) -> dict[str, Any]:
    return {
        "zone": "VIP",
        "name": "VIP",
        "member_hourly_rate": 800,
        "guest_hourly_rate": 1000,
        "rules": [],
        "packages": [{"name": "3 hours", "minutes": 180, "price": 2400}],
        **overrides,
    }


def rule_around_now(minutes_before: int, minutes_after: int) -> dict[str, Any]:
    """A rule whose window started ``minutes_before`` ago and ends ``minutes_after`` from now
    (venue time zone UTC), so a sale made now crosses its end."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return {
        "name": "Happy hour",
        "start": (now - timedelta(minutes=minutes_before)).strftime("%H:%M"),
        "end": (now + timedelta(minutes=minutes_after)).strftime("%H:%M"),
        "member_hourly_rate": 300,
        "guest_hourly_rate": 500,
    }


async def _quote(admin: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await admin.get(f"{API}/pricing/quote", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_manages_plans_and_each_change_is_an_event(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    created = await admin.post(f"{API}/pricing/plans", json=vip_plan())
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    twice = await admin.post(f"{API}/pricing/plans", json=vip_plan())
    assert (
        twice.status_code == 409 and twice.json()["detail"] == "Zone 'VIP' already has a rate plan"
    )

    replaced = await admin.put(
        f"{API}/pricing/plans/{plan_id}", json=vip_plan(guest_hourly_rate=1100, packages=[])
    )
    assert replaced.status_code == 200 and replaced.json()["guest_hourly_rate"] == 1100
    assert [p["zone"] for p in (await admin.get(f"{API}/pricing/plans")).json()] == ["VIP"]
    assert (await admin.delete(f"{API}/pricing/plans/{plan_id}")).status_code == 204
    assert (await admin.get(f"{API}/pricing/plans/{plan_id}")).status_code == 404

    changes = await events_of(admin, "PRICING_CHANGED")
    assert sorted(e["data"]["action"] for e in changes) == ["created", "deleted", "replaced"]
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    operator = live_server.client(await live_server.login("op1", "operator-pass-1"))
    assert (await operator.post(f"{API}/pricing/plans", json=vip_plan())).status_code == 403
    assert (await operator.get(f"{API}/pricing/plans")).status_code == 200


async def test_bad_plans_are_refused(admin: httpx.AsyncClient) -> None:
    empty_window = rule_around_now(0, 0)
    for bad in (
        vip_plan(guest_hourly_rate=-1),
        vip_plan(rules=[empty_window]),
        vip_plan(rules=[{**empty_window, "start": "25:00"}]),
        vip_plan(rules=[{**rule_around_now(10, 10), "days": [7]}]),
        vip_plan(packages=[{"name": "zero", "minutes": 0, "price": 100}]),
    ):
        response = await admin.post(f"{API}/pricing/plans", json=bad)
        assert response.status_code == 422, bad
        assert isinstance(response.json()["detail"], str)


async def test_quote_uses_the_zone_plan_with_member_and_guest_rates(
    admin: httpx.AsyncClient,
) -> None:
    assert (await admin.post(f"{API}/pricing/plans", json=vip_plan())).status_code == 201
    station_id = await pc_station(admin, rate=600, zone="VIP")
    member = await create_customer(admin, is_member=True)
    guest = await _quote(admin, station_id=station_id, minutes=60)
    assert (guest["amount"], guest["plan"], guest["member"]) == (1000, "VIP", False)
    as_member = await _quote(admin, station_id=station_id, minutes=60, user_id=member["id"])
    assert (as_member["amount"], as_member["member"]) == (800, True)
    package = await _quote(admin, station_id=station_id, minutes=180)
    assert package["basis"] == "package" and package["amount"] == 2400
    assert package["time_price"] == 3000
    # No plan for the zone: the station's own rate.
    plain = await pc_station(admin, rate=600)
    assert (await _quote(admin, station_id=plain, minutes=30))["amount"] == 300


async def test_quote_errors_are_4xx(admin: httpx.AsyncClient) -> None:
    station_id = await pc_station(admin)
    for params, status in (
        ({"station_id": station_id, "minutes": 0}, 422),
        ({"station_id": station_id, "minutes": "x"}, 422),
        ({"station_id": station_id}, 422),
        ({"station_id": "not-a-uuid", "minutes": 5}, 422),
        ({"station_id": "00000000-0000-0000-0000-000000000000", "minutes": 5}, 404),
        ({"station_id": station_id, "minutes": 5, "user_id": station_id}, 404),
    ):
        response = await admin.get(f"{API}/pricing/quote", params=params)
        assert response.status_code == status, (params, response.text)
        assert isinstance(response.json()["detail"], str)


async def test_a_sale_across_a_rule_boundary_charges_exactly_the_segmented_quote(
    admin: httpx.AsyncClient,
) -> None:
    plan = vip_plan(rules=[rule_around_now(30, 20)], packages=[])
    assert (await admin.post(f"{API}/pricing/plans", json=plan)).status_code == 201
    station_id = await pc_station(admin, rate=600, zone="VIP")
    user_id = await funded_customer(admin, 5000, is_member=True)

    quote = await _quote(admin, station_id=station_id, minutes=60, user_id=user_id)
    assert [s["rule"] for s in quote["segments"]] == ["Happy hour", None]
    assert [s["hourly_rate"] for s in quote["segments"]] == [300, 800]
    assert sum(s["amount"] for s in quote["segments"]) == quote["amount"]

    sale = await admin.post(
        f"{API}/sessions/start",
        json={
            "station_id": station_id,
            "duration_minutes": 60,
            "user_id": user_id,
            "payment_method": "BALANCE",
        },
    )
    assert sale.status_code == 201, sale.text
    assert sale.json()["payment"]["amount"] == sale.json()["amount_total"] == quote["amount"]
    assert [s["rule"] for s in sale.json()["pricing"]["segments"]] == ["Happy hour", None]


async def test_an_extension_is_priced_from_the_session_end(admin: httpx.AsyncClient) -> None:
    plan = vip_plan(rules=[rule_around_now(30, 60)], packages=[])
    assert (await admin.post(f"{API}/pricing/plans", json=plan)).status_code == 201
    station_id = await pc_station(admin, rate=600, zone="VIP")
    started = await admin.post(
        f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
    )
    assert started.json()["amount_total"] == 250  # 30 happy-hour minutes at 500
    session_id = started.json()["id"]
    quote = await _quote(admin, station_id=station_id, minutes=60, session_id=session_id)
    # The extension starts when the session ends (in 30 min), still in happy hour, and runs
    # past its end (in under 60 min): two segments, from the session's end on.
    assert quote["starts_at"] == started.json()["scheduled_end_at"]
    assert [(s["rule"], s["hourly_rate"]) for s in quote["segments"]] == [
        ("Happy hour", 500),
        (None, 1000),
    ]
    assert 700 < quote["amount"] < 1000
    extended = await admin.put(
        f"{API}/sessions/{session_id}/extend", json={"additional_minutes": 60}
    )
    assert extended.json()["payment"]["amount"] == quote["amount"]
