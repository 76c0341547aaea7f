"""Early stop: the unused share of what was paid goes back to the customer's balance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gameops.server.sessions.domain import unused_share
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, balance_of, events_of, funded_customer, ledger_of, pc_station
from tests.support.sessions import rewrite_session

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("paid", "stopped_after", "expected"),
    [
        (600, timedelta(minutes=0), 600),
        (600, timedelta(minutes=15), 450),
        (600, timedelta(minutes=59, seconds=59), 0),  # 1/3600 of 600 rounds down to 0
        (1000, timedelta(minutes=20), 666),  # 666.67 rounds down: never more than paid
        (600, timedelta(minutes=60), 0),
        (600, timedelta(minutes=75), 0),  # stopped after the end: nothing left
    ],
)
def test_unused_share_is_pro_rata_and_rounds_down(
    paid: int, stopped_after: timedelta, expected: int
) -> None:
    assert unused_share(paid, T0, T0 + timedelta(hours=1), T0 + stopped_after) == expected


@pytest.fixture
async def refunding_server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = server_settings(database_url, tmp_path / "data", refund_unused_on_stop=True)
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def _started(staff: httpx.AsyncClient, user_id: str | None, method: str) -> dict[str, str]:
    body = {
        "station_id": await pc_station(staff, rate=600),
        "duration_minutes": 60,
        "user_id": user_id,
        "payment_method": method,
    }
    response = await staff.post(f"{API}/sessions/start", json=body)
    assert response.status_code == 201, response.text
    session: dict[str, str] = response.json()
    return session


async def test_early_stop_refunds_the_unused_time_to_the_balance(
    refunding_server: LiveServer,
) -> None:
    staff = await refunding_server.admin_client()
    user_id = await funded_customer(staff, 1000)
    session = await _started(staff, user_id, "BALANCE")
    # As if 45 of the 60 paid minutes had gone by: 15 minutes (150 of 600) are left.
    now = datetime.now(UTC)
    await rewrite_session(
        refunding_server.settings.database_url,
        session["id"],
        started_at=now - timedelta(minutes=45),
        scheduled_end_at=now + timedelta(minutes=15),
    )
    stopped = await staff.delete(f"{API}/sessions/{session['id']}")
    assert stopped.status_code == 200, stopped.text
    refunded = stopped.json()["refunded"]
    assert 148 <= refunded <= 150  # the stop lands a moment after we moved the end
    assert await balance_of(staff, user_id) == 400 + refunded
    [refund_entry, *_] = await ledger_of(staff, user_id)
    assert refund_entry["kind"] == "REFUND" and refund_entry["amount"] == refunded
    assert refund_entry["session_id"] == session["id"]
    [event] = await events_of(staff, "BALANCE_REFUND")
    assert event["data"]["amount"] == refunded


async def test_guests_and_disabled_setting_get_no_refund(
    refunding_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    staff = await refunding_server.admin_client()
    guest = await _started(staff, None, "CASH")
    assert (await staff.delete(f"{API}/sessions/{guest['id']}")).json()["refunded"] == 0
    # The default server (admin fixture) does not refund.
    user_id = await funded_customer(admin, 1000)
    body = {
        "station_id": await pc_station(admin, rate=600),
        "duration_minutes": 60,
        "user_id": user_id,
        "payment_method": "BALANCE",
    }
    session = (await admin.post(f"{API}/sessions/start", json=body)).json()
    assert (await admin.delete(f"{API}/sessions/{session['id']}")).json()["refunded"] == 0
    assert await balance_of(admin, user_id) == 400
