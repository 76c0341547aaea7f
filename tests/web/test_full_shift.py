"""A whole shift at the desk, in the browser: open the till with a counted float, sell for
cash and from a balance, top a customer up, sell a snack, stop a session early with a cash
refund, sell on a PC that is off (its time starts when it connects), close with a count
that is short, and print the handover. Screenshots go to docs/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from gameops.protocol import SessionStart, SyncRequest, SyncResponse
from gameops.server.settings import Settings
from tests.support.live_server import LiveServer, server_settings
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station, station_agent

API = "/api/v1"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A venue as shipped: cash needs an open shift; early stops pay cash back; 20 % VAT."""
    return server_settings(
        database_url,
        tmp_path / "data",
        require_open_shift=True,
        stop_refund="cash",
        tax_rate_bp=2000,
        venue_name="Pixel Hall",
        venue_address="1 Arcade Lane, Springfield",
        venue_tax_id="DE123456789",
    )


async def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A dialog is shot as the screen shows it; a page whole."""
    path = screenshot_path(name)
    await page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top
    await page.screenshot(path=path, full_page=full_page)
    shutil.copy(path, DOCS / name)


async def _sell(page: Page, station: str, minutes: str, customer: str | None = None) -> None:
    await card(page, station).get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_label("Duration").select_option(minutes)
    if customer:
        await dialog.get_by_label("Search by name").fill(customer)
        await dialog.get_by_role("button", name=re.compile(customer)).click()
        await expect(dialog.get_by_label("Payment")).to_have_value("BALANCE")
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog).to_be_hidden()


async def test_a_full_shift(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    pc1 = await make_station(admin, "PC-01", "Main hall")
    pc2 = await make_station(admin, "PC-02", "Main hall")
    pc3 = await make_station(admin, "PC-03", "Main hall")
    agents = [await station_agent(live_server, admin, pc) for pc in (pc1, pc2)]
    cola = {"name": "Cola", "category": "drinks", "price": 250, "tax_rate_bp": 700, "stock": 24}
    assert (await admin.post(f"{API}/shop/products", json=cola)).status_code == 201

    # Open the till with a counted float of $100.00.
    page = await open_page("/till")
    await expect(page.locator('[data-field="shift-state"]')).to_contain_text("No shift is open")
    await page.get_by_label("Pieces of $50.00").fill("1")
    await page.get_by_label("Pieces of $20.00").fill("2")
    await page.get_by_label("Pieces of $5.00").fill("2")
    await expect(page.locator('[data-field="counted"]')).to_have_text("$100.00")
    await page.get_by_role("button", name="Open shift").click()
    await expect(page.locator('[data-field="shift-state"]')).to_contain_text("Open since")
    await expect(page.locator('[data-field="float"]')).to_have_text("$100.00")

    # A cash sale, a new customer topped up in cash, and a sale from her balance.
    await page.goto(live_server.base_url + "/")
    await _sell(page, "PC-01", "60")
    await agents[0].expect(SessionStart)
    await expect(card(page, "PC-01").locator(".status")).to_have_text("In session")

    await page.goto(live_server.base_url + "/customers")
    await page.get_by_role("button", name="New customer").click()
    create = page.locator("#customer-dialog")
    await create.get_by_label("Username").fill("ann")
    await create.get_by_label("Full name").fill("Ann Lee")
    await create.get_by_role("button", name="Save").click()
    detail = page.locator("#customer-detail")
    await detail.get_by_label("Top up (USD)").fill("20")
    await detail.get_by_role("button", name="Top up").click()
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$20.00")

    await page.goto(live_server.base_url + "/")
    await _sell(page, "PC-02", "120", customer="Ann Lee")
    await agents[1].expect(SessionStart)
    await expect(card(page, "PC-02").locator(".customer")).to_have_text("Ann Lee")

    # A snack for a walk-in, paid in cash.
    await page.goto(live_server.base_url + "/shop")
    await page.locator('[data-product="Cola"]').click()
    await page.locator('[data-product="Cola"]').click()
    await expect(page.locator('[data-field="total"]')).to_have_text("$5.00")
    await page.get_by_role("button", name="Sell").click()
    await expect(page.locator("#sale-result")).to_contain_text("Sold: $5.00")
    await _shot(page, "till-shop.png")
    await page.get_by_role("button", name="Print receipt").click()
    receipt = page.frame_locator("#print-dialog iframe")
    await expect(receipt.locator("body")).to_contain_text("Pixel Hall")
    await expect(receipt.locator("body")).to_contain_text(re.compile(r"2 \S Cola"))
    await _shot(page, "till-receipt.png", full_page=False)
    await page.locator("#print-dialog").get_by_role("button", name="Close").click()

    # PC-01's customer leaves early: the dialog says what comes back, and how.
    await page.goto(live_server.base_url + "/")
    await card(page, "PC-01").get_by_role("button", name="Stop").click()
    stop = page.locator("#stop-dialog")
    await expect(stop).to_contain_text(re.compile(r"\$5\.\d\d is paid back in cash from the till"))
    await _shot(page, "till-stop-preview.png", full_page=False)
    await stop.get_by_role("button", name="Stop session").click()
    await expect(card(page, "PC-01").locator(".note")).to_contain_text("cash back")

    # A sale on a PC that is switched off: its time waits for it.
    await _sell(page, "PC-03", "60")
    pc3_card = card(page, "PC-03")
    await expect(pc3_card.locator(".status")).to_have_text("Waiting for the PC")
    await expect(pc3_card.locator(".note")).to_contain_text("the clock starts when the PC takes it")
    await expect(pc3_card.get_by_role("button", name="Move")).to_be_visible()
    await _shot(page, "till-waiting-for-pc.png")
    late = await station_agent(live_server, admin, pc3)
    await late.send(SyncRequest())
    synced = await late.expect(SyncResponse)
    assert synced.session is not None
    await expect(pc3_card.locator(".status")).to_have_text("In session")
    await expect(pc3_card.locator(".timer")).to_have_text(re.compile(r"^(1:00:00|59:\d\d)$"))

    # The headline keeps the three figures apart.
    await page.goto(live_server.base_url + "/payments")
    money_in = page.locator('[data-field="money_in"]')
    await expect(money_in).to_contain_text("$")
    await expect(page.locator("#tax-lines")).to_contain_text("Tax 20 %")
    await expect(page.locator("#tax-lines")).to_contain_text("Tax 7 %")
    await _shot(page, "till-payments.png")

    # Close: the drawer should hold 100 + 6 + 20 + 5 - refund + 6 (PC-03); count $1 short.
    await page.goto(live_server.base_url + "/till")
    await expect(page.locator('[data-field="expected"]')).to_have_text(re.compile(r"^\$"))
    expected_text = await page.locator('[data-field="expected"]').inner_text()
    expected = round(float(expected_text.replace("$", "").replace(",", "")) * 100)
    counted = expected - 100
    left = counted
    for value in (5000, 2000, 1000, 500, 100, 50, 10, 5, 1):
        pieces, left = divmod(left, value)
        if pieces:
            await page.get_by_label(f"Pieces of ${value / 100:,.2f}").fill(str(pieces))
    await expect(page.locator('[data-field="variance-preview"]')).to_have_text("· short by $1.00")
    await _shot(page, "till-close-count.png")
    await page.get_by_role("button", name="Close shift").click()
    result = page.locator("#close-result")
    await expect(result).to_contain_text("Variance: -$1.00 (short)")
    await expect(page.locator('[data-field="shift-state"]')).to_contain_text("No shift is open")

    await result.get_by_role("button", name="Print the handover").click()
    handover = page.frame_locator("#print-dialog iframe")
    await expect(handover.locator("body")).to_contain_text("Shift handover — Pixel Hall")
    await expect(handover.locator("body")).to_contain_text("Variance (short)")
    await expect(handover.locator("body")).to_contain_text("Cash back")
    await _shot(page, "till-handover.png", full_page=False)
    for agent in (*agents, late):
        await agent.close()


async def test_till_and_shop_read_in_german_on_a_tablet(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    assert (await admin.patch(f"{API}/users/me", json={"language": "de"})).status_code == 200
    cola = {"name": "Cola", "price": 250, "stock": 3}
    assert (await admin.post(f"{API}/shop/products", json=cola)).status_code == 201
    page = await open_page("/till", width=768, height=1024)
    await page.reload()
    await expect(page.locator("h1")).to_have_text("Kasse")
    await expect(page.locator('[data-field="shift-state"]')).to_contain_text("Keine Schicht offen")
    await expect(page.get_by_role("button", name="Schicht öffnen")).to_be_visible()
    await expect(page.locator("#receipts-table tbody tr")).to_have_count(1)
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    await _shot(page, "till-de-768.png")
    await page.goto(live_server.base_url + "/shop")
    await expect(page.locator('[data-product="Cola"]')).to_contain_text("3 auf Lager")
    await expect(page.get_by_role("button", name="Verkaufen")).to_be_disabled()
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    await _shot(page, "shop-de-768.png")


async def test_a_sale_the_pc_never_takes_is_moved_or_given_back_from_the_floor(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    assert (await admin.post(f"{API}/shifts", json={"count": {"5000": 1}})).status_code == 201
    await make_station(admin, "PC-DEAD", "Main hall")
    alive = await make_station(admin, "PC-ALIVE", "Main hall")
    agent = await station_agent(live_server, admin, alive)
    page = await open_page()
    await _sell(page, "PC-DEAD", "60")
    waiting = card(page, "PC-DEAD")
    await expect(waiting.locator(".status")).to_have_text("Waiting for the PC")

    await waiting.get_by_role("button", name="Move").click()
    move = page.locator("#move-dialog")
    await expect(move.get_by_label("To")).to_have_value(alive)
    await move.get_by_role("button", name="Move").click()
    await agent.expect(SessionStart)
    await expect(card(page, "PC-ALIVE").locator(".status")).to_have_text("In session")
    await expect(waiting.locator(".status")).to_have_text("Offline")

    await _sell(page, "PC-DEAD", "30")
    await expect(waiting.locator(".status")).to_have_text("Waiting for the PC")
    await waiting.get_by_role("button", name="Refund").click()
    refund = page.locator("#void-dialog")
    await expect(refund).to_contain_text("Give back all $3.00")
    await refund.get_by_role("button", name="Refund").click()
    await expect(waiting.locator(".status")).to_have_text("Offline")
    shift = (await admin.get(f"{API}/shifts/current")).json()
    report = (await admin.get(f"{API}/shifts/{shift['id']}/report")).json()
    assert report["voids"] == 1 and report["refunds"] == {"CASH": 300}
    await agent.close()
