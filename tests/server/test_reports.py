"""Revenue and shift reports: the arithmetic, and the API matching the payments table."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from gameops.server.db.models import Payment
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose
from gameops.server.reports.domain import (
    GroupBy,
    PaymentRow,
    cash_by_operator,
    revenue,
    spreadsheet_safe,
)
from tests.support.live_server import LiveServer
from tests.support.money import API, create_customer, funded_customer, pc_station, top_up

ANN, BOB = uuid.uuid4(), uuid.uuid4()


def row(amount: int, method: str, purpose: str = "SESSION_START", **kw: object) -> PaymentRow:
    values: dict[str, object] = {
        "completed_at": datetime(2026, 11, 23, 12, tzinfo=UTC),
        "station": "PC-1",
        "operator_id": ANN,
        "operator": "ann",
        **kw,
    }
    return PaymentRow(amount, PaymentMethod(method), PaymentPurpose(purpose), **values)  # type: ignore[arg-type]


def test_revenue_groups_and_nets_out_refunds() -> None:
    rows = [
        row(600, "CASH"),
        row(300, "CARD", station="PC-2"),
        row(1000, "CASH", "TOPUP", station=None),
        row(450, "BALANCE"),
        row(150, "BALANCE", "REFUND"),
    ]
    groups, total = revenue(rows, GroupBy.METHOD, UTC)
    assert [(g.key, g.payments, g.gross, g.refunds, g.net) for g in groups] == [
        ("BALANCE", 2, 450, 150, 300),
        ("CARD", 1, 300, 0, 300),
        ("CASH", 2, 1600, 0, 1600),
    ]
    assert (total.payments, total.gross, total.refunds, total.net) == (5, 2350, 150, 2200)
    by_station, _ = revenue(rows, GroupBy.STATION, UTC)
    assert [g.key for g in by_station] == ["(no station)", "PC-1", "PC-2"]


def test_days_are_venue_days() -> None:
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # already the 24th in Berlin
    groups, _ = revenue(
        [row(100, "CASH", completed_at=late)], GroupBy.DAY, ZoneInfo("Europe/Berlin")
    )
    assert [g.key for g in groups] == ["2026-11-24"]
    utc_groups, _ = revenue([row(100, "CASH", completed_at=late)], GroupBy.DAY, UTC)
    assert [g.key for g in utc_groups] == ["2026-11-23"]


def test_cash_by_operator_counts_only_cash_taken() -> None:
    rows = [
        row(600, "CASH"),
        row(1000, "CASH", "TOPUP"),
        row(300, "CARD"),
        row(450, "BALANCE"),
        row(200, "CASH", operator_id=BOB, operator="bob"),
    ]
    assert [(t.operator, t.payments, t.cash) for t in cash_by_operator(rows)] == [
        ("ann", 2, 1600),
        ("bob", 1, 200),
    ]


async def _activity(live_server: LiveServer, admin: httpx.AsyncClient) -> httpx.AsyncClient:
    """Cash and balance sales by the admin and an operator, and top-ups."""
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    operator = live_server.client(await live_server.login("op1", "operator-pass-1"))
    for staff, rate in ((admin, 600), (operator, 900), (operator, 450)):
        station = await pc_station(admin, rate=rate)
        sale = {"station_id": station, "duration_minutes": 60}
        assert (await staff.post(f"{API}/sessions/start", json=sale)).status_code == 201
    user_id = await funded_customer(operator, 2000)
    balance_sale = {
        "station_id": await pc_station(admin, rate=600),
        "duration_minutes": 30,
        "user_id": user_id,
        "payment_method": "BALANCE",
    }
    assert (await admin.post(f"{API}/sessions/start", json=balance_sale)).status_code == 201
    assert (await top_up(admin, (await create_customer(admin))["id"], 700)).status_code == 201
    return operator


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }


async def test_revenue_matches_the_payments_table_to_the_cent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await _activity(live_server, admin)
    async with live_server.services.database.sessionmaker() as db:
        by_method = dict(
            (
                await db.execute(
                    select(Payment.method, func.sum(Payment.amount))
                    .where(Payment.status == "COMPLETED")
                    .group_by(Payment.method)
                )
            ).all()
        )
    report = await admin.get(f"{API}/reports/revenue", params={**_window(), "group_by": "method"})
    assert report.status_code == 200, report.text
    groups = {g["key"]: g["gross"] for g in report.json()["groups"]}
    assert groups == {str(k): v for k, v in by_method.items()}
    assert groups == {"CASH": 600 + 900 + 450 + 2000 + 700, "BALANCE": 300}
    assert report.json()["total"]["net"] == sum(by_method.values())

    stations = await admin.get(
        f"{API}/reports/revenue", params={**_window(), "group_by": "station"}
    )
    keys = [g["key"] for g in stations.json()["groups"]]
    assert keys[0] == "(no station)" and len(keys) == 5
    assert stations.json()["total"] == report.json()["total"]
    days = await admin.get(f"{API}/reports/revenue", params=_window())
    assert len(days.json()["groups"]) in (1, 2)  # the window may straddle midnight
    assert days.json()["total"] == report.json()["total"]

    earlier = datetime.now(UTC) - timedelta(days=2)
    empty = await admin.get(
        f"{API}/reports/revenue",
        params={"from": earlier.isoformat(), "to": (earlier + timedelta(hours=1)).isoformat()},
    )
    assert empty.json()["groups"] == [] and empty.json()["total"]["net"] == 0


async def test_revenue_csv_export_has_the_same_figures(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await _activity(live_server, admin)
    params = {**_window(), "group_by": "method"}
    as_json = (await admin.get(f"{API}/reports/revenue", params=params)).json()
    exported = await admin.get(f"{API}/reports/revenue", params={**params, "format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "revenue-by-method.csv" in exported.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["key"], int(r["net"])) for r in lines] == [
        *((g["key"], g["net"]) for g in as_json["groups"]),
        ("total", as_json["total"]["net"]),
    ]


async def test_shift_report_is_cash_per_operator(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await _activity(live_server, admin)
    shift = await admin.get(f"{API}/reports/shift", params=_window())
    assert shift.status_code == 200, shift.text
    cash = {o["operator"]: o["cash"] for o in shift.json()["operators"]}
    assert cash == {"admin": 600 + 700, "op1": 900 + 450 + 2000}
    assert shift.json()["total_cash"] == 600 + 700 + 900 + 450 + 2000
    exported = await admin.get(f"{API}/reports/shift", params={**_window(), "format": "csv"})
    last = list(csv.DictReader(io.StringIO(exported.text)))[-1]
    assert last["operator"] == "total" and int(last["cash"]) == shift.json()["total_cash"]


async def test_report_bad_input_is_422(admin: httpx.AsyncClient) -> None:
    window = _window()
    for params in (
        {"from": "2026-11-23T00:00:00", "to": "2026-11-24T00:00:00"},
        {"from": window["to"], "to": window["from"]},
        {**window, "group_by": "weekday"},
        {**window, "format": "xlsx"},
        {"from": "yesterday", "to": window["to"]},
        {"to": window["to"]},
    ):
        response = await admin.get(f"{API}/reports/revenue", params=params)
        assert response.status_code == 422, (params, response.text)
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("PC-1", "PC-1"),
        (-500, -500),  # a refund is a number, not a formula
        (None, None),
    ],
)
def test_spreadsheet_formulas_are_escaped(cell: object, exported: object) -> None:
    assert spreadsheet_safe(cell) == exported


async def test_a_station_named_like_a_formula_exports_as_text(admin: httpx.AsyncClient) -> None:
    name = '=HYPERLINK("http://evil.example","PC")'
    station = await pc_station(admin, name=name)
    sale = {"station_id": station, "duration_minutes": 60}
    assert (await admin.post(f"{API}/sessions/start", json=sale)).status_code == 201
    params = {**_window(), "group_by": "station", "format": "csv"}
    exported = await admin.get(f"{API}/reports/revenue", params=params)
    keys = [r["key"] for r in csv.DictReader(io.StringIO(exported.text))]
    assert keys == ["'" + name, "total"]
    assert "\n=" not in exported.text and ",=" not in exported.text
