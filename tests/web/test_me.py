"""The member's own page, /me, on a phone-sized screen in a real browser: log in with the
PIN, see the balance, sessions and top-ups, change the PIN and log in at a PC with it."""

from __future__ import annotations

import httpx
import playwright.async_api as playwright_api
from playwright.async_api import expect

from gameops.protocol import Login, LoginResult
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import create_customer, top_up
from tests.web.conftest import screenshot_path


async def test_balance_sessions_top_ups_and_a_new_pin_on_a_phone(
    browser: playwright_api.Browser, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    customer = await create_customer(admin, pin="1357", full_name="Ada Player")
    assert (await top_up(admin, customer["id"], 2500)).status_code == 201
    station_id, token = await create_station_with_token(admin, "PC-09", 600)
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(Login(username=customer["username"], secret="1357"))
    assert (await agent.expect(LoginResult)).ok

    context = await browser.new_context(viewport={"width": 375, "height": 740})
    page = await context.new_page()
    await page.goto(f"{live_server.base_url}/me")
    login = page.locator("#me-login-form")
    await login.get_by_label("Username").fill(customer["username"])
    await login.get_by_label("PIN or password").fill("0000")
    await login.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-login-error")).to_have_text("Incorrect username or password")
    await login.get_by_label("PIN or password").fill("1357")
    await login.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_have_text("Ada Player")
    # One 15-minute block at 6.00/h was charged at the login: 25.00 - 1.50.
    await expect(page.locator("#me-balance")).to_have_text("$23.50")
    await expect(page.locator("#me-sessions li").first).to_contain_text("PC-09")
    await expect(page.locator("#me-ledger li")).to_have_count(2)
    await expect(page.locator("#me-ledger")).to_contain_text("top-up by cash")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # nothing wider than the phone
    await page.screenshot(path=screenshot_path("me-phone.png"), full_page=True)

    pin = page.locator("#me-pin-form")
    await pin.get_by_label("Current PIN or password").fill("9999")
    await pin.get_by_label("New PIN (4 to 12 digits)").fill("2468")
    await pin.get_by_role("button", name="Change PIN").click()
    await expect(page.locator("#me-pin-result")).to_have_text(
        "The current PIN or password is wrong"
    )
    await pin.get_by_label("Current PIN or password").fill("1357")
    await pin.get_by_label("New PIN (4 to 12 digits)").fill("2468")
    await pin.get_by_role("button", name="Change PIN").click()
    await expect(page.locator("#me-pin-result")).to_contain_text("Your PIN is changed")
    relogin = await admin.post(
        "/api/v1/auth/login", json={"username": customer["username"], "password": "2468"}
    )
    assert relogin.status_code == 200
    await context.close()
    await agent.close()


async def test_staff_are_sent_to_the_dashboard(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    refused = await admin.get("/api/v1/me/sessions")
    assert refused.status_code == 403 and "dashboard" in refused.json()["detail"]
    bad = await admin.post("/api/v1/me/pin", json={"current": "x", "new_pin": "12"})
    assert bad.status_code == 422
