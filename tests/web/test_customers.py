"""Customers in a real browser: create, top up, ledger; sell time from a balance on the
floor, and a short balance refused in plain words."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from gameops.protocol import SessionStart
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station

API = "/api/v1"


async def _customer(admin: httpx.AsyncClient, username: str, name: str, balance: int) -> str:
    body = {"username": username, "full_name": name, "phone": "+1 555 0100"}
    created = await admin.post(f"{API}/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id: str = created.json()["id"]
    if balance:
        topup = await admin.post(f"{API}/users/{customer_id}/topups", json={"amount": balance})
        assert topup.status_code == 201, topup.text
    return customer_id


async def test_create_a_customer_top_up_and_read_the_ledger(open_page: OpenPage) -> None:
    page = await open_page("/customers")
    await page.get_by_role("button", name="New customer").click()
    dialog = page.locator("#customer-dialog")
    await dialog.get_by_label("Username").fill("ada")
    await dialog.get_by_label("Full name").fill("Ada Lovelace")
    await dialog.get_by_label("Email").fill("not-an-email")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.locator(".error")).to_have_text("Email is not in a valid format.")
    await dialog.get_by_label("Email").fill("ada@example.org")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_be_hidden()

    detail = page.locator("#customer-detail")
    await expect(detail.locator("h2")).to_have_text("Ada Lovelace")
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$0.00")
    await detail.get_by_label("Top up (USD)").fill("12.50")
    await detail.get_by_role("button", name="Top up").click()
    await expect(page.locator("#topup-error")).to_be_hidden()
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$12.50")
    first = detail.locator("#ledger-table tbody tr").first
    await expect(first).to_contain_text("Topup")
    await expect(first).to_contain_text("+$12.50")
    await expect(page.locator('#customers-table tr[data-username="ada"]')).to_contain_text("$12.50")
    await detail.get_by_label("Top up (USD)").fill("0")
    await detail.get_by_role("button", name="Top up").click()
    await expect(page.locator("#topup-error")).to_contain_text("Amount must be a positive")
    await page.screenshot(path=screenshot_path("customers.png"))


async def test_sell_time_from_a_customers_balance_on_the_floor(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    issued = await admin.post(f"{API}/stations/{station_id}/agent-token")
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, issued.json()["token"])
    await _customer(admin, "grace", "Grace Hopper", balance=1000)
    await _customer(admin, "linus", "Linus Short", balance=100)
    page = await open_page()

    pc = card(page, "PC-01")
    await pc.get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_label("Search by name").fill("Linus")
    await dialog.get_by_role("button", name=re.compile("Linus Short")).click()
    await expect(dialog.get_by_label("Payment")).to_have_value("BALANCE")
    await dialog.get_by_role("button", name="Start").click()  # 1 hour at $6.00 from $1.00
    await expect(dialog.locator(".error")).to_have_text("Insufficient balance: $1.00 of $6.00.")

    await dialog.get_by_role("button", name="Walk-in instead").click()
    await dialog.get_by_label("Search by name").fill("grace")
    await dialog.get_by_role("button", name=re.compile("Grace Hopper")).click()
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog).to_be_hidden()
    started = await agent.expect(SessionStart)
    assert started.duration_minutes == 60
    await expect(pc.locator(".customer")).to_have_text("Grace Hopper")

    customers = await open_page("/customers")
    await customers.get_by_role("button", name="Grace Hopper").click()
    detail = customers.locator("#customer-detail")
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$4.00")
    await expect(detail.locator("#ledger-table tbody tr").first).to_contain_text("-$6.00")
    await agent.close()
