"""Admin, Events and Sessions pages in a real browser."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from gameops.protocol import SessionStart
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.support.sessions import start_session
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station, station_agent

API = "/api/v1"


async def test_admin_creates_a_station_and_sets_up_its_pc(
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
    station_id = await row.get_attribute("data-station-id")
    assert station_id
    await expect(row.locator(".id-cell code")).to_have_text(station_id[:8] + "…")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await row.get_by_role("button", name="Copy the id of PC-NEW").click()
    await expect(row.locator(".id-cell button")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == station_id

    await row.get_by_role("button", name="Set up this PC").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Issue a new token").click()
    setup = page.locator("#setup-dialog")
    token_box = setup.get_by_label("Token", exact=True)
    await expect(token_box).to_have_value(re.compile(r"^gat_[\w-]{40,}$"))
    token = await token_box.input_value()
    assert await setup.get_by_label("Station id").input_value() == station_id
    server = live_server.base_url.replace("http://", "ws://")
    silent = await setup.locator('[name="silent"]').input_value()
    assert silent == (
        f"gameops-agent-setup.exe /S /SERVER={server} /STATION={station_id} /TOKEN={token}"
    )
    config = await setup.locator('[name="config"]').input_value()
    assert config == (
        f'station:\n  id: "{station_id}"\n  name: "PC-NEW"\n'
        f'backend:\n  url: "{server}"\n  token: "{token}"'
    )
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    await expect(card(floor, "PC-NEW").locator(".status")).to_have_text("Available")
    await page.screenshot(path=screenshot_path("setup-pc.png"))
    await setup.get_by_role("button", name="Done").click()
    await expect(token_box).to_have_value("")  # gone from the page once closed
    await expect(setup.locator('[name="silent"]')).to_have_value("")
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
    await expect(dialog.locator(".error")).to_have_text("A station named PC-01 already exists.")
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
    await expect(dialog.locator(".error")).to_have_text("The password needs at least 8 characters.")
    await dialog.get_by_label("Password").fill("long-enough-1")
    await dialog.get_by_role("button", name="Create").click()
    row = page.locator('#staff-table tr[data-username="op2"]')
    await expect(row).to_contain_text("Olga Operator")
    await row.get_by_role("button", name="Disable").click()
    await expect(row.locator("td").nth(3)).to_have_text("No")


async def test_admin_resets_a_staff_password_and_changes_their_own(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    created = await admin.post(
        f"{API}/users", json={"username": "op3", "password": "first-pass-1", "role": "OPERATOR"}
    )
    assert created.status_code == 201
    page = await open_page("/admin")
    row = page.locator('#staff-table tr[data-username="op3"]')
    await row.get_by_role("button", name="Reset password").click()
    dialog = page.locator("#reset-dialog")
    await dialog.get_by_label("New password").fill("second-pass-2")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    me_row = page.locator('#staff-table tr[data-username="admin"]')
    await expect(me_row.get_by_role("button", name="Reset password")).to_have_count(0)

    await page.locator("#whoami").click()
    mine = page.locator("#me-dialog")
    await mine.get_by_label("Current password").fill("wrong-password")
    await mine.get_by_label("New password").fill("admin-new-pass")
    await mine.get_by_role("button", name="Save").click()
    await expect(mine.locator(".error")).to_have_text("The current password is not right.")
    await mine.get_by_label("Current password").fill(ADMIN_PASSWORD)
    await mine.get_by_role("button", name="Save").click()
    await expect(mine).to_be_hidden()
    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        for username, password in (("op3", "second-pass-2"), ("admin", "admin-new-pass")):
            login = await anonymous.post(
                f"{API}/auth/login", json={"username": username, "password": password}
            )
            assert login.status_code == 200, (username, login.text)


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
    other = await make_station(admin, "PC-07", "Main hall")
    ann = await admin.post(f"{API}/customers", json={"username": "ann", "full_name": "Ann Lee"})
    await admin.post(f"{API}/users/{ann.json()['id']}/topups", json={"amount": 1000})
    await start_session(
        admin, other, minutes=60, user_id=ann.json()["id"], payment_method="BALANCE"
    )
    sale = page.locator('#events-table tr[data-type="SESSION_CREATED"]').first
    await expect(sale.locator('[data-field="sentence"]')).to_have_text(
        re.compile(r"^Ann Lee started a session on PC-07: 1 hour for \$6\.00, until .+\.$")
    )
    await expect(sale.locator("a.customer")).to_have_attribute(
        "href", f"/customers?id={ann.json()['id']}"
    )
    await expect(sale.locator("a.station")).to_have_text("PC-07")
    debit = page.locator('#events-table tr[data-type="BALANCE_DEBIT"]').first
    await expect(debit).to_contain_text("$6.00 was paid from the balance of Ann Lee; $4.00 left.")
    await sale.get_by_text("Raw data").click()
    await expect(sale.locator("pre")).to_contain_text('"type": "SESSION_CREATED"')
    await page.get_by_label("Type").select_option("STATION_CREATED")
    await page.get_by_role("button", name="Apply").click()
    rows = page.locator("#events-table tbody tr")
    await expect(rows).to_have_count(2)
    await make_station(admin, "PC-02", "Main hall")
    await expect(rows).to_have_count(3)
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
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    pc = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, pc)  # its clock starts with its hello
    page = await open_page("/admin")
    await page.get_by_role("button", name="New rate plan").click()
    dialog = page.locator("#plan-dialog")
    save = dialog.get_by_role("button", name="Save")
    problems = dialog.locator('[data-field="problems"] li')
    await dialog.get_by_label("Zone").fill("Main hall")
    await dialog.get_by_label("Name", exact=True).fill("Hall prices")
    await dialog.get_by_label("Member rate per hour (USD)").fill("8.00")
    await expect(problems).to_have_text(["Enter the guest rate per hour, e.g. 6.00."])
    await expect(save).to_be_disabled()
    await dialog.get_by_label("Guest rate per hour (USD)").fill("12.00")
    await expect(problems).to_have_count(0)

    await dialog.get_by_role("button", name="Add a time rule").click()
    rule = dialog.locator('#rule-rows tr[data-kind="rule"]')
    await expect(problems).to_contain_text(["Time rule 1 needs a name."])
    await rule.get_by_label("Name").fill("Evening")
    await rule.get_by_label("From").fill("18:00")
    await rule.get_by_label("To").fill("18:00")
    await expect(problems).to_contain_text(["Time rule 1: start and end must differ."])
    await rule.get_by_label("To").fill("02:00")
    await rule.get_by_label("Member / h").fill("5")
    await rule.get_by_label("Guest / h").fill("9.50")
    await rule.get_by_title("Friday").click()
    await expect(problems).to_have_count(0)
    grid = dialog.locator("#week-grid")
    await expect(grid.locator('[data-day="4"][data-hour="20"]')).to_have_attribute("data-rule", "0")
    await expect(grid.locator('[data-day="5"][data-hour="1"]')).to_have_attribute("data-rule", "0")
    await expect(grid.locator('[data-day="3"][data-hour="20"]')).to_have_attribute("data-rule", "")

    await dialog.get_by_role("button", name="Add a package").click()
    pack = dialog.locator('#package-rows tr[data-kind="package"]')
    await pack.get_by_label("Name").fill("3 hours")
    await pack.get_by_label("Minutes").fill("2000")
    await expect(problems).to_have_text(
        ["Package 1: between 1 minute and 24 hours.", "Package 1: enter a price, e.g. 15.00."]
    )
    await pack.get_by_label("Minutes").fill("180")
    await pack.get_by_label("Price (USD)").fill("20")
    await expect(pack.locator('[data-field="length"]')).to_have_text("3 hours")
    await expect(save).to_be_enabled()
    await page.screenshot(path=screenshot_path("rate-plan.png"))
    await save.click()
    row = page.locator('#plans-table tr[data-zone="Main hall"]')
    await expect(row).to_contain_text("$12.00")
    await expect(row).to_contain_text("3 hours (3 hours) $20.00")
    await expect(row).to_contain_text("Evening 18:00\u201302:00")
    [plan] = (await admin.get(f"{API}/pricing/plans")).json()
    assert plan["rules"] == [
        {
            "name": "Evening",
            "start": "18:00:00",
            "end": "02:00:00",
            "days": [4],
            "member_hourly_rate": 500,
            "guest_hourly_rate": 950,
        }
    ]
    assert plan["packages"] == [
        {"name": "3 hours", "minutes": 180, "price": 2000, "members_only": False}
    ]

    floor = await open_page()
    await card(floor, "PC-01").get_by_role("button", name="Start").click()
    start = floor.locator("#start-dialog")
    await start.get_by_label("Duration").select_option("30")
    await expect(start.locator('[data-field="price"]')).to_contain_text("$")
    await expect(start.locator('[data-field="rate"]')).to_contain_text("Hall prices")
    await start.get_by_label("Duration").select_option("180")
    await expect(start.locator('[data-field="price"]')).to_have_text("To pay: $20.00")
    await start.get_by_role("button", name="Start").click()
    await agent.expect(SessionStart)  # taken (acked): the clock starts
    await expect(card(floor, "PC-01").locator(".timer")).to_have_text(
        re.compile(r"^(3:00:00|2:59:5\d)$")
    )
    sessions = (await admin.get(f"{API}/sessions")).json()["items"]
    assert sessions[0]["amount_total"] == 2000
    await agent.close()


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
