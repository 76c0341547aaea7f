"""Admin, Events and Sessions pages in a real browser."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station

API = "/api/v1"


async def test_admin_creates_a_station_and_its_agent_token_is_shown_once(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    page = await open_page("/admin")
    floor = await open_page()
    await page.get_by_role("button", name="New station").click()
    dialog = page.locator("#station-dialog")
    await dialog.get_by_label("Name").fill("PC-NEW")
    await dialog.get_by_label("Zone").fill("Arena")
    await dialog.get_by_label("Rate per hour (USD)").fill("7.50")
    await dialog.get_by_role("button", name="Save").click()
    row = page.locator('#stations-table tr[data-name="PC-NEW"]')
    await expect(row).to_contain_text("$7.50")
    await expect(card(floor, "PC-NEW").locator(".status")).to_have_text("Offline")

    await row.get_by_role("button", name="Issue agent token").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Issue token").click()
    token_box = page.locator("#token-dialog").get_by_label("Token")
    await expect(token_box).to_have_value(re.compile(r"^gat_[\w-]{40,}$"))
    token = await token_box.input_value()
    # The agent's config needs both: the dialog shows the station's id with its token.
    station_id = await page.locator("#token-dialog").get_by_label("Station id").input_value()
    assert station_id == await row.get_attribute("data-station-id")
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    await expect(card(floor, "PC-NEW").locator(".status")).to_have_text("Available")
    await page.locator("#token-dialog").get_by_role("button", name="Done").click()
    await expect(token_box).to_have_value("")  # gone from the page once closed
    await expect(row).to_contain_text("connected")
    await agent.close()


async def test_admin_edits_a_station_and_sees_a_duplicate_name_refused(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    await make_station(admin, "PC-01", "Main hall")
    await make_station(admin, "PC-02", "Main hall")
    page = await open_page("/admin")
    row = page.locator('#stations-table tr[data-name="PC-02"]')
    await row.get_by_role("button", name="Edit").click()
    dialog = page.locator("#station-dialog")
    await expect(dialog.get_by_label("Name")).to_have_value("PC-02")
    await dialog.get_by_label("Name").fill("PC-01")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.locator(".error")).to_have_text("A station named 'PC-01' already exists.")
    await dialog.get_by_label("Zone").fill("VIP")
    await dialog.get_by_label("Name").fill("PC-VIP")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.locator('#stations-table tr[data-name="PC-VIP"]')).to_contain_text("VIP")


async def test_admin_creates_and_disables_staff(open_page: OpenPage) -> None:
    page = await open_page("/admin")
    await page.get_by_role("button", name="New staff user").click()
    dialog = page.locator("#user-dialog")
    await dialog.get_by_label("Username").fill("op2")
    await dialog.get_by_label("Full name").fill("Olga Operator")
    await dialog.get_by_label("Password").fill("short")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.locator(".error")).to_have_text(
        "Password should have at least 8 characters."
    )
    await dialog.get_by_label("Password").fill("long-enough-1")
    await dialog.get_by_role("button", name="Create").click()
    row = page.locator('#staff-table tr[data-username="op2"]')
    await expect(row).to_contain_text("Olga Operator")
    await row.get_by_role("button", name="Disable").click()
    await expect(row.locator("td").nth(3)).to_have_text("no")


async def test_events_page_appends_live_and_filters(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    page = await open_page("/events")
    first_row = page.locator("#events-table tbody tr").first
    await expect(first_row).to_contain_text("Station PC-01 (PC) was added.")
    await start_session(admin, station_id, minutes=15)
    await expect(first_row).to_contain_text("A walk-in session started on PC-01", timeout=2000)
    await expect(first_row).to_contain_text("15 min for $1.50")
    await page.get_by_label("Type").select_option("STATION_CREATED")
    await page.get_by_role("button", name="Apply").click()
    rows = page.locator("#events-table tbody tr")
    await expect(rows).to_have_count(1)
    await make_station(admin, "PC-02", "Main hall")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("PC-02")
    await expect(page.locator("#events-table tbody")).not_to_contain_text("session started")


async def test_sessions_page_lists_active_and_past_with_filters(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    one = await make_station(admin, "PC-01", "Main hall")
    two = await make_station(admin, "PC-02", "Main hall")
    stopped = await start_session(admin, one, minutes=30)
    assert (await admin.delete(f"{API}/sessions/{stopped['id']}")).status_code == 200
    await start_session(admin, two, minutes=60)
    page = await open_page("/sessions")
    rows = page.locator("#sessions-table tbody tr")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Status").select_option("ACTIVE")
    await page.get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("PC-02")
    await expect(rows.first).to_contain_text("$6.00")
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Station").select_option(label="PC-01")
    await page.get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Stopped")
    await start_session(admin, one, minutes=5)  # appears live
    await expect(rows).to_have_count(2)
    await page.screenshot(path=screenshot_path("sessions.png"))


async def test_admin_sets_a_zones_rate_plan_and_the_start_dialog_quotes_it(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    await make_station(admin, "PC-01", "Main hall")
    page = await open_page("/admin")
    await page.get_by_role("button", name="New rate plan").click()
    dialog = page.locator("#plan-dialog")
    await dialog.get_by_label("Zone").fill("Main hall")
    await dialog.get_by_label("Name").fill("Hall prices")
    await dialog.get_by_label("Member rate per hour (USD)").fill("8.00")
    await dialog.get_by_label("Guest rate per hour (USD)").fill("12.00")
    await dialog.get_by_label("Packages (JSON").fill("[{not json")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.locator(".error")).to_contain_text("Packages: write a JSON list")
    await dialog.get_by_label("Packages (JSON").fill(
        '[{"name": "3 hours", "minutes": 180, "price": 2000}]'
    )
    await dialog.get_by_role("button", name="Save").click()
    row = page.locator('#plans-table tr[data-zone="Main hall"]')
    await expect(row).to_contain_text("$12.00")
    await expect(row).to_contain_text("3 hours $20.00")

    floor = await open_page()
    await card(floor, "PC-01").get_by_role("button", name="Start").click()
    start = floor.locator("#start-dialog")
    await start.get_by_label("Duration").select_option("30")
    await expect(start.locator('[data-field="price"]')).to_have_text("To pay: $6.00")
    await expect(start.locator('[data-field="rate"]')).to_contain_text("Hall prices")
    await start.get_by_label("Duration").select_option("180")
    await expect(start.locator('[data-field="price"]')).to_have_text("To pay: $20.00")
    await start.get_by_role("button", name="Start").click()
    await expect(card(floor, "PC-01").locator(".timer")).to_have_text(
        re.compile(r"^(3:00:00|2:59:5\d)$")
    )
    sessions = (await admin.get(f"{API}/sessions")).json()["items"]
    assert sessions[0]["amount_total"] == 2000


async def test_sessions_pager_walks_pages_and_filters_return_to_the_first(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    for i in range(26):  # one more than a page of 25
        await start_session(admin, await make_station(admin, f"PC-{i:02d}"))
    page = await open_page("/sessions")
    pager = page.locator(".pager")
    label = pager.locator('[data-field="page"]')
    await expect(label).to_have_text("Page 1 of 2 · 26 sessions")
    await expect(pager.locator('[data-page="prev"]')).to_be_disabled()
    await pager.locator('[data-page="next"]').click()
    await expect(label).to_have_text("Page 2 of 2 · 26 sessions")
    await expect(page.locator("#sessions-table tbody tr")).to_have_count(1)
    await expect(pager.locator('[data-page="next"]')).to_be_disabled()
    await page.locator("#session-filters").evaluate("form => form.requestSubmit()")
    await expect(label).to_have_text("Page 1 of 2 · 26 sessions")
