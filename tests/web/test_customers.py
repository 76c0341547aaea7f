"""Customers in a real browser: create, top up, ledger; sell time from a balance on the
floor, and a short balance refused in plain words."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from gameops.protocol import SessionStart
from tests.support.live_server import LiveServer
from tests.web.conftest import OpenPage, screenshot_path
from tests.web.test_floor import card, make_station, station_agent

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
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.locator(".error")).to_have_text(
        "The email address is not in a valid format."
    )
    await dialog.get_by_label("Email").fill("ada@example.org")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()

    detail = page.locator("#customer-detail")
    await expect(detail.locator("h2")).to_have_text("Ada Lovelace")
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$0.00")
    await detail.get_by_label("Top up (USD)").fill("12.50")
    await detail.get_by_role("button", name="Top up").click()
    await expect(page.locator("#topup-error")).to_be_hidden()
    await expect(detail.locator('[data-field="balance"]')).to_have_text("$12.50")
    first = detail.locator("#ledger-table tbody tr").first
    await expect(first).to_contain_text("Top-up")
    await expect(first).to_contain_text("+$12.50")
    await expect(page.locator('#customers-table tr[data-username="ada"]')).to_contain_text("$12.50")
    await detail.get_by_label("Top up (USD)").fill("0")
    await detail.get_by_role("button", name="Top up").click()
    await expect(page.locator("#topup-error")).to_have_text("Enter an amount above zero.")
    await page.screenshot(path=screenshot_path("customers.png"))


async def test_sell_time_from_a_customers_balance_on_the_floor(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, station_id, hello=False)
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
    await expect(dialog.locator(".error")).to_have_text("Not enough balance: $1.00 of $6.00.")

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


async def test_edit_set_a_password_and_disable_a_customer(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await _customer(admin, "ada", "Ada Lovelace", balance=0)
    page = await open_page("/customers")
    await page.get_by_role("button", name="Ada Lovelace").click()
    detail = page.locator("#customer-detail")
    await detail.get_by_label("Top up (USD)").fill("abc")
    await detail.get_by_role("button", name="Top up").click()
    await expect(page.locator("#topup-error")).to_have_text("Enter an amount, e.g. 10.00.")

    await detail.get_by_role("button", name="Edit details").click()
    dialog = page.locator("#customer-dialog")
    await expect(dialog.get_by_label("Full name")).to_have_value("Ada Lovelace")
    await expect(dialog.get_by_label("Username")).to_be_hidden()
    await dialog.get_by_label("Full name").fill("Ada King")
    await dialog.get_by_label("Phone").fill("+44 20 7946 0000")
    await dialog.get_by_label("Member").check()
    await dialog.get_by_role("button", name="Save").click()
    await expect(detail.locator("h2")).to_have_text("Ada King")
    await expect(detail.locator('[data-field="contact"]')).to_have_text(
        "ada · +44 20 7946 0000 · member"
    )
    # The typed amount and its error belong to Ada; they stay with her, not with a new one.
    await expect(page.locator("#topup-error")).to_be_visible()

    await detail.get_by_role("button", name="Set PIN or password").click()
    secret = page.locator("#secret-dialog")
    box = secret.get_by_label("New PIN or password")
    await box.fill("12")
    await secret.get_by_role("button", name="Save").click()
    await expect(secret.locator(".error")).to_have_text("A PIN is 4 to 12 digits.")
    await box.fill("4321")
    await secret.get_by_role("button", name="Save").click()
    await expect(secret).to_be_hidden()
    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        by_pin = await anonymous.post(
            f"{API}/auth/login", json={"username": "ada", "password": "4321"}
        )
    assert by_pin.status_code == 200, by_pin.text

    await detail.get_by_role("button", name="Set PIN or password").click()
    await secret.get_by_label("Password (at least 8 characters)").check()
    await box.fill("short")
    await secret.get_by_role("button", name="Save").click()
    await expect(secret.locator(".error")).to_have_text("The password needs at least 8 characters.")
    await box.fill("ada-secret-1")
    await secret.get_by_role("button", name="Save").click()
    await expect(secret).to_be_hidden()
    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        login = await anonymous.post(
            f"{API}/auth/login", json={"username": "ada", "password": "ada-secret-1"}
        )
    assert login.status_code == 200

    await detail.get_by_role("button", name="Disable").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Disable").click()
    await expect(detail.locator('[data-field="disabled"]')).to_be_visible()
    await expect(detail.get_by_role("button", name="Enable")).to_be_visible()
    customer = (await admin.get(f"{API}/customers", params={"q": "ada"})).json()["items"][0]
    assert customer["is_active"] is False and customer["is_member"] is True

    # A new customer's dialog is empty: nothing of Ada's, no old error.
    await page.get_by_role("button", name="New customer").click()
    new = page.locator("#customer-dialog")
    await expect(new.locator("h2")).to_have_text("New customer")
    for label in ("Username", "Full name", "Phone", "Email"):
        await expect(new.get_by_label(label)).to_have_value("")
    await expect(new.get_by_label("Member")).not_to_be_checked()
    await expect(new.locator(".error")).to_be_hidden()
    await new.get_by_label("Username").fill("bo")
    await new.get_by_role("button", name="Save").click()
    await expect(new.locator(".error")).to_have_text("The username needs at least 3 characters.")
    await new.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="New customer").click()
    await expect(new.get_by_label("Username")).to_have_value("")
    await expect(new.locator(".error")).to_be_hidden()
    await new.get_by_label("Username").fill("bob")
    await new.get_by_role("button", name="Save").click()
    await expect(detail.locator("h2")).to_have_text("bob")
    await expect(page.locator("#topup-error")).to_be_hidden()  # Ada's error is gone
    await expect(detail.get_by_label("Top up (USD)")).to_have_value("")
    events = (await admin.get(f"{API}/events", params={"type": "USER_UPDATED"})).json()["items"]
    assert any(e["data"].get("password") == "changed" for e in events)
