"""Bookings in a real browser: staff book a PC for a customer at the desk, the day's
timeline and the floor show it live, and a no-show (the worker ticked with the test's
clock) is released on both without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import expect

from gameops.server.settings import Settings
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, pc_station, top_up
from tests.web.conftest import OpenPage, screenshot_path

DASH = "\u2013"  # between two times, as Intl writes a range


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "reservation_deposit": 500,
            "reservation_no_show_minutes": 10,
            "reservation_poll_seconds": 3600,  # ticked by the test
        }
    )


async def test_book_see_it_on_the_timeline_and_the_floor_then_released(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await pc_station(admin, name="PC-21", zone="Main hall")
    await pc_station(admin, name="PC-22", zone="Main hall")
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    now = datetime.now(UTC)
    start = (now + timedelta(hours=1)).replace(
        minute=(now.minute // 15) * 15, second=0, microsecond=0
    )

    page = await open_page("/reservations")
    await page.locator("#bookings-day").fill(start.date().isoformat())
    form = page.locator("#book-form")
    await form.locator('input[name="customer_q"]').fill("Ada")
    await form.get_by_role("button", name="Ada Lovelace").click()
    await form.locator('select[name="where"]').select_option(label="PC-21 (Main hall)")
    await form.get_by_label("From").fill(start.strftime("%H:%M"))
    await form.get_by_label("Minutes").fill("90")
    await form.get_by_role("button", name="Book").click()
    await expect(page.locator("#bookings-result")).to_contain_text(
        "PC-21 is booked for Ada Lovelace"
    )
    assert await balance_of(admin, customer["id"]) == 1500  # the deposit

    row = page.locator(f'.timeline-row[data-station-id="{station_id}"]')
    bar = row.locator(".booking")
    await expect(bar).to_have_attribute("data-status", "BOOKED")
    until = start + timedelta(minutes=90)
    await expect(bar).to_contain_text(f"Ada Lovelace · {start:%-I:%M %p}{DASH}{until:%-I:%M %p}")
    listed = page.locator("#bookings-table tbody tr").first
    await expect(listed).to_contain_text("Booked")
    await expect(listed).to_contain_text("$5.00 · held")
    await page.screenshot(path=screenshot_path("bookings.png"), full_page=True)

    floor = await open_page("/")
    card_line = floor.locator(f'article.card[data-station-id="{station_id}"] .card-booking')
    await expect(card_line).to_have_text(
        f"Reserved {start:%-I:%M %p}{DASH}{until:%-I:%M %p} · Ada Lovelace"
    )

    # Nobody comes: ten minutes after the start the worker releases the PC.
    assert await live_server.services.reservations.tick(start + timedelta(minutes=10)) == (0, 1)
    await expect(bar).to_have_attribute("data-status", "NO_SHOW")  # live, no reload
    await expect(listed).to_contain_text("No-show, released")
    await expect(listed).to_contain_text("$5.00 · kept")
    await expect(listed.get_by_role("button", name="Cancel")).to_have_count(0)
    await expect(card_line).to_be_hidden()
    assert await balance_of(admin, customer["id"]) == 1500
