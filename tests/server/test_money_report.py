"""The three money figures of docs/money.md: money in, revenue, balance liability."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gameops.server.payments.domain import PaymentMethod, PaymentPurpose
from gameops.server.reports.domain import PaymentRow, money_figures
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, balance_of, create_customer, pc_station, top_up

NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _row(amount: int, method: str, purpose: str) -> PaymentRow:
    return PaymentRow(
        amount, PaymentMethod(method), PaymentPurpose(purpose), NOON, None, None, None
    )


def test_balance_spending_is_revenue_once_and_top_ups_are_not_revenue() -> None:
    figures = money_figures(
        [
            _row(2000, "CASH", "TOPUP"),  # money in, owed to the customer
            _row(600, "BALANCE", "SESSION_START"),  # revenue, paid from that top-up
            _row(300, "CASH", "SESSION_START"),  # money in and revenue
            _row(500, "CARD", "SHOP_SALE"),
            _row(100, "BALANCE", "REFUND"),  # back to the balance: revenue falls
            _row(50, "CASH", "REFUND"),  # cash back: out of the till, revenue falls
        ]
    )
    assert figures.money_in == {"CASH": 2250, "CARD": 500, "total": 2750}
    assert figures.revenue == 600 + 300 + 500 - 150
    assert figures.sales_by_method == {"CASH": 300, "BALANCE": 600, "CARD": 500}
    assert (figures.topups, figures.refunds) == (2000, 150)


@pytest.fixture
async def refunding(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = server_settings(database_url, tmp_path / "data", stop_refund="balance")
    server = LiveServer(settings)
    await server.start()
    yield await server.admin_client()
    await server.close()


async def _sell(staff: httpx.AsyncClient, minutes: int, method: str, user: str | None) -> str:
    body = {
        "station_id": await pc_station(staff, rate=600),
        "duration_minutes": minutes,
        "payment_method": method,
        "user_id": user,
    }
    response = await staff.post(f"{API}/sessions/start", json=body)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def test_a_mixed_shift_adds_up(refunding: httpx.AsyncClient) -> None:
    staff = refunding
    since = datetime.now(UTC) - timedelta(seconds=1)
    ann = (await create_customer(staff))["id"]
    assert (await top_up(staff, ann, 2000)).status_code == 201
    played = await _sell(staff, 60, "BALANCE", ann)
    guest = await _sell(staff, 30, "CASH", None)
    preview = (await staff.get(f"{API}/sessions/{played}/stop-preview")).json()
    assert preview["refund_way"] == "balance" and 590 <= preview["refund"] <= 600
    assert preview["paid"] == 600 and "balance" in preview["explanation"]
    nothing = (await staff.get(f"{API}/sessions/{guest}/stop-preview")).json()
    assert (nothing["refund"], nothing["refund_way"]) == (0, "none")
    assert nothing["explanation"] == "A guest has no balance to refund to."
    stopped = await staff.delete(f"{API}/sessions/{played}")
    refunded = stopped.json()["refunded"]
    assert 590 <= refunded <= 600  # stopped at once: nearly all of it comes back
    until = datetime.now(UTC) + timedelta(seconds=1)

    response = await staff.get(
        f"{API}/reports/money", params={"from": since.isoformat(), "to": until.isoformat()}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["money_in"] == {"CASH": 2300, "CARD": 0, "total": 2300}
    assert report["revenue"] == 600 + 300 - refunded
    assert report["topups"] == 2000 and report["refunds"] == refunded
    liability = report["liability"]
    assert liability["at_start"] == 0
    assert liability["at_end"] == await balance_of(staff, ann) == 2000 - 600 + refunded
    # Money in less revenue is what customers now hold on their balances.
    assert report["money_in"]["total"] - report["revenue"] == liability["change"]


async def test_money_report_refuses_a_window_without_a_zone(admin: httpx.AsyncClient) -> None:
    response = await admin.get(
        f"{API}/reports/money", params={"from": "2026-11-23T00:00", "to": "2026-11-24T00:00"}
    )
    assert response.status_code == 422
    assert "time zone" in response.json()["detail"]
