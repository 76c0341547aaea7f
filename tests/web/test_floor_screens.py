"""The floor as an operator reads it: an empty venue's guide, filters, search and the list
view, live events applied per station (never the whole floor per event), no Card without a
gateway, and a sale retried after a lost answer charged once."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Request, Route, expect

from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station

API = "/api/v1"
SOLD = re.compile("^(In session|Waiting for the PC)")  # a PC's clock waits for its agent


async def test_an_empty_venue_says_how_to_add_the_first_station(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    page = await open_page()
    guide = page.locator("#floor-empty")
    await expect(guide).to_contain_text("No stations yet")
    await expect(guide).to_contain_text("Admin → New station")
    await expect(guide).to_contain_text("Set up this PC")
    await expect(page.locator("#floor-tools")).to_be_hidden()
    await page.screenshot(path=screenshot_path("floor-empty.png"))
    body = {"username": "op9", "password": "operator-pass-9", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    operator = await open_page(username="op9", password="operator-pass-9")
    await expect(operator.locator("#empty-operator")).to_contain_text("Ask an admin")
    await expect(operator.locator("#empty-admin")).to_be_hidden()

    await make_station(admin, "PC-01", "Main hall")  # appears live; the guide goes
    await expect(card(page, "PC-01")).to_be_visible()
    await expect(guide).to_be_hidden()
    await expect(page.locator("#floor-tools")).to_be_visible()


async def test_filters_search_and_the_list_view(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    for i in range(1, 7):
        await make_station(admin, f"PC-{i:02d}", "Main hall" if i <= 4 else "Arena")
    customer = await admin.post(f"{API}/customers", json={"username": "zoe", "full_name": "Zoe Q"})
    await admin.post(f"{API}/users/{customer.json()['id']}/topups", json={"amount": 5000})
    stations = {s["name"]: s["id"] for s in (await admin.get(f"{API}/stations")).json()["items"]}
    await start_session(
        admin, stations["PC-03"], 30, user_id=customer.json()["id"], payment_method="BALANCE"
    )
    page = await open_page()
    tools = page.locator("#floor-filters")
    cards = page.locator(".card:visible")
    await expect(cards).to_have_count(6)
    await tools.get_by_label("Find").fill("zoe")  # a customer's name finds their station
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_have_attribute("data-name", "PC-03")
    await expect(page.locator("#floor-shown")).to_have_text("Showing 1 of 6")
    await tools.get_by_label("Find").fill("")
    await tools.get_by_label("Status").select_option("IN_SESSION")
    await expect(cards).to_have_count(1)
    await tools.get_by_label("Status").select_option("")
    await tools.get_by_label("Zone").select_option("Arena")
    await expect(cards).to_have_count(2)
    await expect(page.locator('.zone[data-zone="Main hall"]')).to_be_hidden()
    await tools.get_by_label("Zone").select_option("*")

    await page.get_by_role("button", name="List").click()
    await expect(page.locator("#floor")).to_have_attribute("data-view", "list")
    heights = await cards.evaluate_all("nodes => nodes.map((n) => n.offsetHeight)")
    # A row, not a card (a station with a notice, "waiting for the PC", gets a second line).
    assert sorted(heights)[len(heights) // 2] < 60 and max(heights) < 120, heights
    await page.screenshot(path=screenshot_path("floor-list.png"))
    await page.reload()  # the choice is remembered
    await expect(page.locator("#floor")).to_have_attribute("data-view", "list")
    await expect(page.get_by_role("button", name="List")).to_have_attribute("aria-pressed", "true")


async def test_live_events_reread_only_the_stations_they_touch(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    ids = [await make_station(admin, f"PC-{i:02d}", "Main hall") for i in range(1, 5)]
    page = await open_page()
    await expect(page.locator(".card")).to_have_count(4)
    floor_reads: list[str] = []

    def watch(request: Request) -> None:
        if "/api/v1/floor" in request.url:
            floor_reads.append(request.url)

    page.on("request", watch)
    await start_session(admin, ids[1], 20)
    await expect(card(page, "PC-02").locator(".status")).to_have_text(SOLD)
    await expect(card(page, "PC-02").locator(".customer")).to_have_text("Walk-in customer")
    patched = await admin.patch(f"{API}/stations/{ids[2]}", json={"status": "MAINTENANCE"})
    assert patched.status_code == 200
    await expect(card(page, "PC-03").locator(".status")).to_have_text("Maintenance")
    await make_station(admin, "PC-00", "Main hall")
    await expect(page.locator(".card").first).to_have_attribute("data-name", "PC-00")
    assert (await admin.delete(f"{API}/stations/{ids[3]}")).status_code == 204
    await expect(card(page, "PC-04")).to_have_count(0)
    assert floor_reads, "the session's card was re-read"
    assert all("station_id=" in url for url in floor_reads), floor_reads
    assert not any(ids[0] in url for url in floor_reads)  # untouched: never re-read
    await expect(page.locator("#floor-summary")).to_contain_text("4 stations · 1 in session")


async def test_no_card_without_a_gateway_and_a_retried_sale_charges_once(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    page = await open_page()
    await card(page, "PC-01").get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await expect(dialog.locator('option[value="CARD"]')).to_have_count(0)
    await expect(dialog.get_by_label("Payment")).to_have_value("CASH")

    keys: list[str | None] = []

    async def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            await route.fetch()  # the server sells...
            await route.abort("connectionreset")  # ...and the answer is lost on the way
        else:
            await route.continue_()

    await page.route("**/api/v1/sessions/start", lose_the_first_answer)
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog.locator(".error")).to_have_text(
        "Cannot reach the server. Check the network and try again."
    )
    await dialog.get_by_role("button", name="Start").click()  # the operator tries again
    await expect(dialog).to_be_hidden()
    await expect(card(page, "PC-01").locator(".status")).to_have_text(SOLD)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    sessions = (await admin.get(f"{API}/sessions", params={"station_id": station_id})).json()
    assert sessions["meta"]["total"] == 1
    payments = (await admin.get(f"{API}/events", params={"type": "PAYMENT_COMPLETED"})).json()
    assert payments["meta"]["total"] == 1  # charged once
