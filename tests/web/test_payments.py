"""The Payments page: money in, revenue and balances, and payments by method and hour, live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import expect

from tests.support.sessions import start_session
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import make_station

API = "/api/v1"


async def test_todays_revenue_by_method_and_hour_updates_live(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    other_id = await make_station(admin, "PC-02", "Main hall")
    await start_session(admin, station_id, minutes=60)  # $6.00 cash
    created = await admin.post(f"{API}/customers", json={"username": "ada", "full_name": "Ada"})
    topup = await admin.post(f"{API}/users/{created.json()['id']}/topups", json={"amount": 1000})
    assert topup.status_code == 201, topup.text

    page = await open_page("/payments")
    # The headline keeps money in, revenue and balances apart: the top-up is not revenue.
    await expect(page.locator('[data-field="money_in"]')).to_have_text("$16.00")
    await expect(page.locator('[data-field="revenue"]')).to_have_text("$6.00")
    await expect(page.locator('[data-field="liability"]')).to_have_text("$10.00")
    await expect(page.locator('[data-field="payments"]')).to_have_text("2")
    await expect(page.locator('#method-table tr[data-key="CASH"]')).to_contain_text("$16.00")
    await expect(page.locator('#station-table tr[data-key="PC-01"]')).to_contain_text("$6.00")
    await expect(page.locator('#shift-table tr[data-key="admin"]')).to_contain_text("$16.00")
    await expect(page.locator('#chart rect[data-method="CASH"]')).to_have_count(1)

    await start_session(admin, other_id, minutes=30)  # another screen sells $3.00
    await expect(page.locator('[data-field="money_in"]')).to_have_text("$19.00")
    await expect(page.locator('[data-field="revenue"]')).to_have_text("$9.00")
    await expect(page.locator('#station-table tr[data-key="PC-02"]')).to_contain_text("$3.00")
    await page.screenshot(path=screenshot_path("payments.png"), full_page=True)


async def test_booking_deposits_held_and_kept_in_the_headline(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    created = await admin.post(f"{API}/customers", json={"username": "ada", "full_name": "Ada"})
    ada = created.json()["id"]
    assert (await admin.post(f"{API}/users/{ada}/topups", json={"amount": 2000})).status_code == 201
    starts_at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    booking = {"station_id": station_id, "user_id": ada, "starts_at": starts_at, "minutes": 60}
    booked = await admin.post(f"{API}/reservations", json=booking)
    assert booked.status_code == 201, booked.text  # a $5.00 deposit from her balance

    page = await open_page("/payments")
    # The deposit is still hers: owed to her, not revenue.
    await expect(page.locator('[data-field="liability"]')).to_have_text("$20.00")
    await expect(page.locator('[data-field="held_deposits"]')).to_have_text(
        "of which $5.00 booking deposits held"
    )
    await expect(page.locator('[data-field="revenue"]')).to_have_text("$0.00")
    # Staff cancel it and keep the deposit: now it is revenue, live.
    cancel = await admin.post(
        f"{API}/reservations/{booked.json()['id']}/cancel", json={"keep_deposit": True}
    )
    assert cancel.status_code == 200, cancel.text
    await expect(page.locator('[data-field="revenue"]')).to_have_text("$5.00")
    await expect(page.locator('[data-field="kept_deposits"]')).to_have_text(
        "of which $5.00 booking deposits kept"
    )
    await expect(page.locator('[data-field="liability"]')).to_have_text("$15.00")
    await expect(page.locator('[data-field="held_deposits"]')).to_have_text("")
