"""Guest tickets in a real browser: sell one at the desk, the code shown once, the 80 mm
ticket printed from the address's fragment (no server ever sees the code), voided."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from gameops.protocol import Login, LoginResult, WalletUpdate
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.web.conftest import OpenPage, screenshot_path

CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")


async def test_sell_print_use_and_void_a_guest_ticket(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    page = await open_page("/tickets")
    form = page.locator("#ticket-form")
    await form.get_by_label("Minutes", exact=True).fill("90")
    await form.get_by_label("Price (USD)").fill("7.50")
    await form.get_by_role("button", name="Sell ticket").click()
    await expect(page.locator("#ticket-code")).to_have_text(CODE)
    code = (await page.locator("#ticket-code").text_content() or "").strip()
    row = page.locator("#tickets-table tbody tr").first
    await expect(row).to_contain_text(f"…{code[-4:]}")
    await expect(row).to_contain_text("1 h 30 min")
    await expect(row).to_contain_text("$7.50")

    href = await page.locator("#ticket-print").get_attribute("href")
    assert href is not None and href.startswith("/tickets/print#")
    ticket = await page.context.new_page()
    await ticket.set_viewport_size({"width": 302, "height": 480})  # 80 mm at 96 dpi
    await ticket.goto(f"{live_server.base_url}{href}&noprint=1")
    await expect(ticket.locator("#code")).to_have_text(code)
    await expect(ticket.locator("#minutes")).to_have_text("90 min")
    assert "code" not in ticket.url  # the fragment is dropped from the address once read
    await ticket.screenshot(path=screenshot_path("ticket-80mm.png"), full_page=True)

    station_id, token = await create_station_with_token(admin, "PC-51", 600)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Login(ticket=code))
    assert (await agent.expect(LoginResult)).ok

    page.on("dialog", lambda dialog: dialog.accept())
    await row.get_by_role("button", name="Void").click()
    await expect(row.get_by_role("button", name="Voided")).to_be_disabled()
    await page.reload()
    await expect(page.locator("#ticket-code")).to_have_text("")  # never shown again
    await agent.close()


async def test_sell_and_print_a_ticket_for_an_amount_and_see_what_is_left(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    page = await open_page("/tickets")
    form = page.locator("#ticket-form")
    await form.get_by_label("Ticket for").select_option(label="An amount")
    await expect(form.get_by_label("Minutes", exact=True)).to_be_hidden()
    await form.get_by_label("Amount (USD)").fill("7.50")
    await expect(form.get_by_label("Price (USD)")).to_have_value("7.50")  # follows the amount
    await form.get_by_role("button", name="Sell ticket").click()
    await expect(page.locator("#ticket-code")).to_have_text(CODE)
    code = (await page.locator("#ticket-code").text_content() or "").strip()
    row = page.locator("#tickets-table tbody tr").first
    await expect(row.locator("td").nth(1)).to_have_text("$7.50")  # what is left on it

    href = await page.locator("#ticket-print").get_attribute("href")
    assert href is not None
    ticket = await page.context.new_page()
    await ticket.set_viewport_size({"width": 302, "height": 480})
    await ticket.goto(f"{live_server.base_url}{href}&noprint=1")
    await expect(ticket.locator("#code")).to_have_text(code)
    await expect(ticket.locator("#what")).to_have_text("Value")
    await expect(ticket.locator("#minutes")).to_have_text("$7.50")
    await ticket.screenshot(path=screenshot_path("ticket-amount-80mm.png"), full_page=True)

    station_id, token = await create_station_with_token(admin, "PC-52", 600)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Login(ticket=code))
    assert (await agent.expect(LoginResult)).ok
    wallet = await agent.expect(WalletUpdate)  # a 15-minute block at 6.00/h taken
    assert wallet.balance_text == "$6.00"
    await page.reload()
    await expect(page.locator("#tickets-table tbody tr").first.locator("td").nth(1)).to_have_text(
        "$6.00"
    )
    await agent.close()
