"""Bookings in a real browser: staff book a PC for a customer at the desk, the day's
timeline and the floor show it live, and a no-show (the worker ticked with the test's
clock) is released on both without a reload."""

from __future__ import annotations

import re
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


async def test_a_held_console_at_the_desk_staff_see_whose_booking_and_override_it(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    console = await admin.post(
        "/api/v1/stations",
        json={"name": "PS5-1", "type": "CONSOLE", "hourly_rate": 600, "zone": "Lounge"},
    )
    station_id = console.json()["id"]
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    start = datetime.now(UTC).replace(second=0, microsecond=0)  # held from now
    body = {"station_id": station_id, "user_id": customer["id"], "minutes": 60}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text

    page = await open_page("/")
    console_card = page.locator(f'article.card[data-station-id="{station_id}"]')
    await console_card.get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_role("button", name="Start").click()  # a walk-in: refused, and why
    await expect(dialog.get_by_role("alert")).to_contain_text(f"Reserved for Ada at {start:%H:%M}")
    held = dialog.locator('[data-field="held"]')
    await expect(held).to_contain_text("PS5-1 is reserved for Ada Lovelace")
    await expect(held).to_contain_text("releases the booking. Their deposit of $5.00:")
    await held.get_by_label("The deposit").select_option(label="Keep it (the venue's)")
    await page.screenshot(path=screenshot_path("floor-held-override.png"))
    await dialog.get_by_role("button", name="Release the booking and start").click()
    await expect(dialog).to_be_hidden()
    await expect(console_card.locator(".status")).to_have_text("In session")
    rows = (await admin.get("/api/v1/reservations", params={"day": start.date()})).json()
    (row,) = [r for r in rows if r["id"] == booked.json()["id"]]
    assert (row["status"], row["deposit_outcome"]) == ("CANCELLED", "KEPT")
    assert await balance_of(admin, customer["id"]) == 1500
    events = await open_page("/events")
    line = events.locator('#events-table tr[data-type="RESERVATION_OVERRIDDEN"]').first
    await expect(line.locator('[data-field="sentence"]')).to_have_text(
        re.compile(
            r"^Ada Lovelace's booking of PS5-1 from .+ was released at the desk: "
            r"the station was sold to a guest\.$"
        )
    )


async def test_staff_move_a_booking_from_the_bookings_page(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    await pc_station(admin, name="PC-21", zone="Main hall")
    other_id = await pc_station(admin, name="PC-22", zone="Main hall")
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    day = datetime.now(UTC).date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
    body = {"zone": "Main hall", "user_id": customer["id"], "minutes": 90}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text

    page = await open_page("/reservations")
    await page.locator("#bookings-day").fill(day.isoformat())
    await page.locator("#bookings-day").dispatch_event("change")
    listed = page.locator(f'#bookings-table tr[data-reservation-id="{booked.json()["id"]}"]')
    await listed.get_by_role("button", name="Move").click()
    dialog = page.locator("#move-dialog")
    await expect(dialog.locator("#move-title")).to_have_text(
        f"Move Ada Lovelace's booking of PC-21, 6:00 PM{DASH}7:30 PM"
    )
    await dialog.get_by_label("Station").select_option(label="PC-22 (Main hall)")
    await dialog.get_by_label("From").fill("19:00")
    await page.screenshot(path=screenshot_path("bookings-move.png"))
    await dialog.get_by_role("button", name="Move the booking").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#bookings-result")).to_contain_text(
        "Moved: PC-22 at 19:00 for Ada Lovelace"
    )
    row = page.locator(f'.timeline-row[data-station-id="{other_id}"] .booking')
    await expect(row).to_contain_text(f"Ada Lovelace · 7:00 PM{DASH}8:30 PM")  # live
    assert await balance_of(admin, customer["id"]) == 1500  # the deposit, once
    events = await open_page("/events")
    line = events.locator('#events-table tr[data-type="RESERVATION_MOVED"]').first
    await expect(line.locator('[data-field="sentence"]')).to_have_text(
        re.compile(r"^Ada Lovelace's booking was moved to PC-22 from .+\.$")
    )


async def test_staff_cancel_a_booking_and_keep_the_deposit(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    station_id = await pc_station(admin, name="PC-21", zone="Main hall")
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    day = datetime.now(UTC).date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
    body = {"station_id": station_id, "user_id": customer["id"], "minutes": 60}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text

    page = await open_page("/reservations")
    await page.locator("#bookings-day").fill(day.isoformat())
    await page.locator("#bookings-day").dispatch_event("change")
    listed = page.locator(f'#bookings-table tr[data-reservation-id="{booked.json()["id"]}"]')
    await listed.get_by_role("button", name="Cancel", exact=True).click()
    dialog = page.locator("#cancel-dialog")
    await expect(dialog.locator('[data-field="question"]')).to_have_text(
        "Cancel Ada Lovelace's booking of PC-21 at 6:00 PM? Their deposit of $5.00:"
    )
    await dialog.get_by_label("The deposit").select_option(label="Keep it (the venue's)")
    await dialog.get_by_role("button", name="Cancel the booking").click()
    await expect(dialog).to_be_hidden()
    await expect(listed).to_contain_text("$5.00 · kept")
    assert await balance_of(admin, customer["id"]) == 1500


async def test_a_waiting_sale_moved_onto_a_held_pc_asks_and_releases_the_booking(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    dead = await pc_station(admin, name="PC-DEAD", zone="Main hall")
    held_id = await pc_station(admin, name="PC-HELD", zone="Main hall")
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    start = datetime.now(UTC).replace(second=0, microsecond=0)  # held from now
    body = {"station_id": held_id, "user_id": customer["id"], "minutes": 60}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text
    sale = {"station_id": dead, "duration_minutes": 30, "payment_method": "CASH"}
    assert (await admin.post("/api/v1/sessions/start", json=sale)).status_code == 201

    page = await open_page("/")
    waiting = page.locator(f'article.card[data-station-id="{dead}"]')
    await waiting.get_by_role("button", name="Move").click()
    dialog = page.locator("#move-dialog")
    await dialog.get_by_label("To").select_option(held_id)
    await dialog.get_by_role("button", name="Move").click()
    await expect(dialog.get_by_role("alert")).to_contain_text(f"Reserved for Ada at {start:%H:%M}")
    await expect(dialog.locator('[data-field="held"]')).to_contain_text(
        "PC-HELD is reserved for Ada Lovelace"
    )
    await dialog.get_by_role("button", name="Release the booking and start").click()
    await expect(dialog).to_be_hidden()
    held_card = page.locator(f'article.card[data-station-id="{held_id}"]')
    await expect(held_card.locator(".status")).to_have_text("Waiting for the PC")
    rows = (await admin.get("/api/v1/reservations", params={"day": start.date()})).json()
    (row,) = [r for r in rows if r["id"] == booked.json()["id"]]
    assert (row["status"], row["deposit_outcome"]) == ("CANCELLED", "REFUNDED")
    assert await balance_of(admin, customer["id"]) == 2000


async def test_a_sale_and_an_extension_that_run_into_a_booking_are_warned_on_the_card(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    console = await admin.post(
        "/api/v1/stations",
        json={"name": "PS5-2", "type": "CONSOLE", "hourly_rate": 600, "zone": "Lounge"},
    )
    station_id = console.json()["id"]
    customer = await create_customer(admin, full_name="Ada Lovelace", pin="2468")
    assert (await top_up(admin, customer["id"], 2000)).status_code == 201
    start = (datetime.now(UTC) + timedelta(minutes=50)).replace(second=0, microsecond=0)
    body = {"station_id": station_id, "user_id": customer["id"], "minutes": 60}
    booked = await admin.post("/api/v1/reservations", json={**body, "starts_at": start.isoformat()})
    assert booked.status_code == 201, booked.text

    page = await open_page("/")
    console_card = page.locator(f'article.card[data-station-id="{station_id}"]')
    note = console_card.locator(".note")
    await console_card.get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_label("Duration").select_option("30")
    await dialog.get_by_role("button", name="Start").click()  # over before the hold
    await expect(dialog).to_be_hidden()
    await expect(console_card.locator(".status")).to_have_text("In session")
    await expect(note).to_be_hidden()
    await console_card.get_by_role("button", name="Extend").click()
    extend = page.locator("#extend-dialog")
    await extend.get_by_label("Add time").select_option("60")
    await extend.get_by_role("button", name="Extend").click()
    await expect(extend).to_be_hidden()
    await expect(note).to_have_text(
        f"PS5-2 is booked for Ada from {start:%H:%M}: this session runs into it."
    )
