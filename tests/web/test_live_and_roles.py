"""The feed surviving a server restart, errors next to their cause, what operators see,
maintenance, and logins that expire."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from playwright.async_api import Browser, Page, Response, Route, WebSocketRoute, expect

from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.web.conftest import OpenPage, stop_server
from tests.web.test_floor import card, make_station

API = "/api/v1"
IN_SESSION = re.compile(r"^In session")


async def _operator(admin: httpx.AsyncClient) -> tuple[str, str]:
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    assert (await admin.post(f"{API}/users", json=body)).status_code == 201
    return "op1", "operator-pass-1"


async def test_feed_reconnects_after_a_drop_and_resyncs(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    # A console: its time runs from the sale (a PC's waits for its agent to take it).
    station_id = await make_station(admin, "PC-01", "Main hall", "CONSOLE")
    page = await open_page()
    status = card(page, "PC-01").locator(".status")
    await expect(status).to_have_text("Available")

    await stop_server(live_server)
    badge = page.locator("#feed-status")
    await expect(badge).to_have_text("Reconnecting…")
    await expect(badge).to_have_attribute("data-state", "reconnecting")
    await live_server.start()
    # Sold the moment the server is back, likely before the page has reconnected.
    await start_session(live_server.client(await live_server.login()), station_id, minutes=20)
    await expect(badge).to_have_text("Live", timeout=15_000)
    await expect(status).to_have_text(IN_SESSION)
    await expect(card(page, "PC-01").locator(".timer")).to_have_text(
        re.compile(r"^(20:00|19:5\d)$")
    )


async def test_api_error_is_shown_in_the_dialog_that_caused_it(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall", "CONSOLE")  # runs at once
    page = await open_page()
    await card(page, "PC-01").get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await expect(dialog).to_be_visible()
    await start_session(admin, station_id, minutes=10)  # another operator was quicker
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog.locator(".error")).to_have_text("This station is busy.")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(card(page, "PC-01").locator(".status")).to_have_text(IN_SESSION)


async def test_operator_sees_only_what_operators_may_do(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await make_station(admin, "PC-01", "Main hall")
    username, password = await _operator(admin)
    page = await open_page(username=username, password=password)
    pc = card(page, "PC-01")
    await expect(pc.get_by_role("button", name="Start")).to_be_visible()
    await expect(pc.get_by_role("button", name="Maintenance")).to_be_hidden()
    await expect(page.get_by_role("link", name="Admin")).to_be_hidden()
    await expect(page.locator("#whoami")).to_have_text("op1 · operator")
    await page.goto(f"{live_server.base_url}/admin")
    await expect(page.locator("#admin-denied")).to_be_visible()
    await expect(page.locator("#admin-body")).to_be_hidden()


async def test_admin_puts_a_station_in_maintenance_and_back(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    await make_station(admin, "PC-01", "Main hall")
    page, other = await open_page(), await open_page()
    await card(page, "PC-01").get_by_role("button", name="Maintenance").click()
    for screen in (page, other):
        await expect(card(screen, "PC-01").locator(".status")).to_have_text("Maintenance")
        await expect(card(screen, "PC-01").get_by_role("button", name="Start")).to_be_hidden()
    await card(other, "PC-01").get_by_role("button", name="Back in service").click()
    for screen in (other, page):  # the one that asked first: a refused request shows there
        await expect(card(screen, "PC-01").locator(".status")).to_have_text("Offline")


async def test_a_late_re_read_does_not_undo_another_screens_change(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    """The re-read after a click answers late, after another screen's change reached this one
    over the feed: that older answer is not drawn, the station is read again."""
    await make_station(admin, "PC-01", "Main hall")
    page, other = await open_page(), await open_page()
    read, release = asyncio.Event(), asyncio.Event()

    async def answer_the_first_late(route: Route) -> None:
        if read.is_set():
            await route.continue_()
            return
        read.set()
        answer = await route.fetch()  # read now: in maintenance
        await release.wait()
        await route.fulfill(response=answer)

    await page.route("**/api/v1/floor?*", answer_the_first_late)
    await card(page, "PC-01").get_by_role("button", name="Maintenance").click()
    await asyncio.wait_for(read.wait(), 15)
    await expect(card(other, "PC-01").locator(".status")).to_have_text("Maintenance")
    await card(other, "PC-01").get_by_role("button", name="Back in service").click()
    status = card(page, "PC-01").locator(".status")
    await expect(status).to_have_text("Offline")
    await page.evaluate("""() => {
        window.shown = [];
        const card = document.querySelector('.card[data-name="PC-01"]');
        new MutationObserver(() => window.shown.push(card.querySelector('.status').textContent))
            .observe(card, {subtree: true, childList: true, characterData: true});
    }""")
    answers = 0

    def the_second_answer(response: Response) -> bool:  # the held one, then the new re-read
        nonlocal answers
        answers += "/api/v1/floor?" in response.url
        return answers == 2

    async with page.expect_response(the_second_answer) as read_again:
        release.set()
    assert (await read_again.value).ok
    await expect(status).to_have_text("Offline")
    assert "Maintenance" not in await page.evaluate("window.shown")


async def _stored_auth(page: Page) -> dict[str, object]:
    stored: dict[str, object] = json.loads(
        await page.evaluate("localStorage.getItem('gameops.auth')")
    )
    return stored


async def test_expired_access_token_is_refreshed_and_a_dead_login_asks_again(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    page = await open_page()
    auth = await _stored_auth(page)
    # A refresh whose answer never got stored (the page was left while it was on its way)...
    await page.evaluate(
        """refresh => fetch('/api/v1/auth/refresh', {
            method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({refresh_token: refresh}),
        }).then(response => { if (!response.ok) throw new Error(response.status); })""",
        auth["refresh"],
    )
    # ...and the access token is no longer accepted: the page refreshes it and carries on.
    await page.evaluate(
        "auth => localStorage.setItem('gameops.auth', JSON.stringify(auth))",
        {**auth, "access": "expired-token"},
    )
    await page.reload()
    await expect(page.locator("#feed-status")).to_have_text("Live")
    assert (await _stored_auth(page))["access"] not in ("expired-token", auth["access"])
    # Neither token works any more: back to the login page, saying why.
    await page.evaluate(
        "auth => localStorage.setItem('gameops.auth', JSON.stringify(auth))",
        {**auth, "access": "x", "refresh": "y"},
    )
    await page.reload()
    await page.wait_for_url(f"{live_server.base_url}/login?reason=expired")
    await expect(page.locator("#login-notice")).to_have_text(
        "Your login has expired. Please log in again."
    )


async def test_logout_forgets_the_login(open_page: OpenPage, live_server: LiveServer) -> None:
    page = await open_page()
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(f"{live_server.base_url}/login")
    await page.goto(f"{live_server.base_url}/events")
    await page.wait_for_url(f"{live_server.base_url}/login")


async def test_keyboard_only_login_and_start(browser: Browser, live_server: LiveServer) -> None:
    admin = await live_server.admin_client()
    await make_station(admin, "PC-01", "Main hall", "CONSOLE")  # its time runs at once
    page = await browser.new_page()
    await page.goto(f"{live_server.base_url}/login")
    # The form takes a submit once its script runs (the button is enabled then).
    await expect(page.locator('#login-form button[type="submit"]')).to_be_enabled()
    await page.keyboard.type("admin")
    await page.keyboard.press("Tab")
    await page.keyboard.type("admin-password-123")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server.base_url}/")
    start = card(page, "PC-01").get_by_role("button", name="Start")
    await start.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#start-dialog")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.locator("#start-dialog")).to_be_hidden()
    await start.focus()
    await page.keyboard.press("Enter")
    await page.locator("#start-dialog").get_by_role("button", name="Start").focus()
    await page.keyboard.press("Enter")
    await expect(card(page, "PC-01").locator(".status")).to_have_text(IN_SESSION)


async def test_events_missed_while_the_feed_was_down_are_caught_up(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    """The socket drops and stays down while things happen; on reconnecting the page fetches
    what it missed (GET /events?after_id=N) and appends it, with no reload."""
    await make_station(admin, "PC-01", "Main hall")
    page = await open_page("/events")
    sockets: list[WebSocketRoute] = []
    down = False

    async def route(socket: WebSocketRoute) -> None:
        if down:
            await socket.close(code=4000, reason="test: network down")
            return
        socket.connect_to_server()
        sockets.append(socket)

    await page.route_web_socket(re.compile(r"/ws/dashboard"), route)
    await page.reload()
    badge = page.locator("#feed-status")
    await expect(badge).to_have_text("Live")
    rows = page.locator("#events-table tbody tr")
    await expect(rows.first).to_contain_text("PC-01")
    before = await rows.count()

    down = True
    await sockets[-1].close(code=4000, reason="test: network down")
    await expect(badge).to_have_text("Reconnecting…")
    await make_station(admin, "PC-MISSED", "Main hall")
    await page.wait_for_timeout(500)
    await expect(rows).to_have_count(before)  # nothing arrives while down
    down = False
    await expect(badge).to_have_text("Live", timeout=15_000)
    await expect(rows.first).to_contain_text("was added")
    await expect(rows.first).to_contain_text("PC-MISSED")
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1
