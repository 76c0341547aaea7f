"""A member books on their phone (/me): any PC in a zone, the deposit off the balance, the
booking listed, then cancelled before it starts and the deposit back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import playwright.async_api as playwright_api
from playwright.async_api import expect

from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, pc_station, top_up


async def test_book_any_pc_in_a_zone_and_cancel_on_a_phone(
    browser: playwright_api.Browser, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await pc_station(admin, name="VIP-1", zone="VIP")
    customer = await create_customer(admin, pin="1357", full_name="Ada Player")
    assert (await top_up(admin, customer["id"], 2500)).status_code == 201
    deposit = live_server.settings.reservation_deposit

    context = await browser.new_context(viewport={"width": 375, "height": 740})
    page = await context.new_page()
    await page.goto(f"{live_server.base_url}/me")
    login = page.locator("#me-login-form")
    await login.get_by_label("Username").fill(customer["username"])
    await login.get_by_label("PIN or password").fill("1357")
    await login.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-bookings")).to_have_text("No bookings")

    form = page.locator("#me-book-form")
    await expect(form.locator("#me-book-terms")).to_contain_text("A deposit of $5.00")
    await form.locator('select[name="where"]').select_option(label="Any PC in VIP")
    # The browser's clock is the venue's here (both UTC): tomorrow at 18:00.
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    await form.locator('input[name="starts_at"]').fill(f"{tomorrow}T18:00")
    await form.get_by_role("button", name="Book").click()
    await expect(page.locator("#me-book-result")).to_contain_text(
        "Booked: VIP-1 (the free PC picked in VIP) is booked for Ada Player"
    )
    booking = page.locator("#me-bookings li").first
    await expect(booking).to_contain_text("VIP-1")
    await expect(booking).to_contain_text("booked")
    await expect(page.locator("#me-balance")).to_have_text("$20.00")
    assert await balance_of(admin, customer["id"]) == 2500 - deposit
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # the form fits the phone

    await booking.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#me-bookings li").first).to_contain_text("cancelled")
    await expect(page.locator("#me-balance")).to_have_text("$25.00")
    await context.close()


async def test_move_a_booking_to_another_pc_and_time_on_a_phone(
    browser: playwright_api.Browser, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    first = await pc_station(admin, name="PC-1")
    second = await pc_station(admin, name="PC-2")
    customer = await create_customer(admin, pin="1357", full_name="Ada Player")
    assert (await top_up(admin, customer["id"], 2500)).status_code == 201
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 18, tzinfo=UTC)
    body = {"station_id": first, "user_id": customer["id"], "minutes": 60}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text

    context = await browser.new_context(viewport={"width": 375, "height": 740})
    page = await context.new_page()
    await page.goto(f"{live_server.base_url}/me")
    login = page.locator("#me-login-form")
    await login.get_by_label("Username").fill(customer["username"])
    await login.get_by_label("PIN or password").fill("1357")
    await login.get_by_role("button", name="Log in").click()
    booking = page.locator("#me-bookings li").first
    await expect(booking).to_contain_text("PC-1")
    await booking.get_by_role("button", name="Move").click()
    move = booking.locator("form.me-move")
    await move.get_by_label("Station").select_option(label="PC-2")
    await move.get_by_label("From").fill(f"{tomorrow.isoformat()}T20:00")  # the phone is UTC
    await move.get_by_label("For").select_option(label="2 hours")
    await move.get_by_role("button", name="Save the move").click()
    await expect(page.locator("#me-book-result")).to_contain_text(
        "Moved: PC-2 at 20:00 for Ada Player"
    )
    await expect(page.locator("#me-bookings li").first).to_contain_text("PC-2")
    await expect(page.locator("#me-balance")).to_have_text("$20.00")  # the deposit stays
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    await context.close()
    rows = (await admin.get("/api/v1/reservations", params={"day": tomorrow.isoformat()})).json()
    (row,) = rows
    assert (row["station_id"], row["status"], row["deposit_outcome"]) == (second, "BOOKED", "HELD")
    assert datetime.fromisoformat(row["starts_at"]) == start + timedelta(hours=2)
    assert datetime.fromisoformat(row["ends_at"]) == start + timedelta(hours=4)
    assert await balance_of(admin, customer["id"]) == 2000
