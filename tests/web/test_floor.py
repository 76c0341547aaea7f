"""The floor in a real browser: live cards, the session lifecycle on two screens, colours,
an agent leaving, the feed surviving a server restart."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from gameops.protocol import (
    Goodbye,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionStart,
    Tamper,
    TamperClear,
)
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session
from tests.web.conftest import OpenPage, screenshot_path

API = "/api/v1"


async def make_station(
    admin: httpx.AsyncClient, name: str, zone: str | None = None, type: str = "PC"
) -> str:
    body = {"name": name, "type": type, "hourly_rate": 600, "zone": zone}
    response = await admin.post(f"{API}/stations", json=body)
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id


async def station_agent(
    live_server: LiveServer, admin: httpx.AsyncClient, station_id: str, *, hello: bool = True
) -> ScriptedAgent:
    """A scripted agent on the station's own token; after its hello unless ``hello`` is off."""
    issued = await admin.post(f"{API}/stations/{station_id}/agent-token")
    assert issued.status_code == 201
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, issued.json()["token"])
    if hello:
        await agent.say_hello()
    return agent


def card(page: Page, name: str) -> Locator:
    return page.locator(f'.card[data-name="{name}"]')


def _seconds(clock_text: str) -> int:
    parts = [int(p) for p in clock_text.split(":")]
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


async def test_floor_groups_cards_by_zone_with_status(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    pc1 = await make_station(admin, "PC-01", "Main hall")
    await make_station(admin, "PC-02", "Main hall")
    await make_station(admin, "PS5-1", "Lounge", type="CONSOLE")
    agent = await station_agent(live_server, admin, pc1)
    page = await open_page()

    zones = page.locator(".zone h2")
    await expect(zones).to_have_text(["Lounge", "Main hall"])
    await expect(card(page, "PC-01").locator(".status")).to_have_text("Available")
    await expect(card(page, "PC-02").locator(".status")).to_have_text("Offline")
    await expect(card(page, "PS5-1").locator(".type")).to_have_text("Console")
    await expect(page.locator("#floor-summary")).to_contain_text("3 stations · 0 in session")
    await agent.close()


async def test_start_extend_stop_reach_the_agent_and_every_screen(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, station_id)
    page, other = await open_page(), await open_page()
    mine, theirs = card(page, "PC-01"), card(other, "PC-01")
    await expect(theirs.locator(".status")).to_have_text("Available")

    await mine.get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_label("Duration").select_option("30")
    await expect(dialog.locator('[data-field="price"]')).to_have_text("To pay: $3.00")
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog).to_be_hidden()

    started = await agent.expect(SessionStart)
    assert started.duration_minutes == 30
    for screen in (mine, theirs):
        await expect(screen.locator(".status")).to_have_text("In session")
        await expect(screen.locator(".customer")).to_have_text("Walk-in customer")
        await expect(screen.locator(".timer")).to_have_attribute("data-band", "green")
    first = _seconds(await mine.locator(".timer").inner_text())
    assert 29 * 60 <= first <= 30 * 60
    await expect(mine.locator(".timer")).not_to_have_text(
        await mine.locator(".timer").inner_text(), timeout=2500
    )
    assert _seconds(await mine.locator(".timer").inner_text()) < first

    await theirs.get_by_role("button", name="Extend").click()
    extend = other.locator("#extend-dialog")
    await extend.get_by_label("Add time").select_option("15")
    await expect(extend.locator('[data-field="price"]')).to_have_text("To pay: $1.50")
    await extend.get_by_role("button", name="Extend").click()
    extended = await agent.expect(SessionExtended)
    assert extended.extended_minutes == 15
    await expect(mine.locator(".timer")).to_have_text(re.compile(r"^4[45]:\d\d$"))

    await mine.get_by_role("button", name="Stop").click()
    stop = page.locator("#stop-dialog")
    await expect(stop).to_contain_text("Stop the session on PC-01 now?")
    await stop.get_by_role("button", name="Keep it running").click()
    await expect(mine.locator(".status")).to_have_text("In session")
    await mine.get_by_role("button", name="Stop").click()
    await stop.get_by_role("button", name="Stop session").click()
    end = await agent.expect(SessionEnd)
    assert str(end.id) == str(started.id)
    for screen in (mine, theirs):
        await expect(screen.locator(".status")).to_have_text("Available")
        await expect(screen.locator(".timer")).to_be_hidden()
    await agent.close()


async def test_time_left_colour_bands(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    bands = {"PC-G": (11, "green"), "PC-O": (7, "orange"), "PC-R": (4, "red")}
    # Consoles: their time runs from the sale (a PC's waits for its agent to take it).
    ids = {name: await make_station(admin, name, "Main hall", "CONSOLE") for name in bands}
    page = await open_page()
    for name, (minutes, _) in bands.items():
        await start_session(admin, ids[name], minutes=minutes)  # another screen sells
    for name, (_, band) in bands.items():
        await expect(card(page, name).locator(".timer")).to_have_attribute("data-band", band)
    await page.screenshot(path=screenshot_path("bands.png"))


async def test_agent_leaving_turns_its_card_offline(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, station_id)
    page = await open_page()
    status = card(page, "PC-01").locator(".status")
    await expect(status).to_have_text("Available")
    await agent.close()
    await expect(status).to_have_text("Offline", timeout=2000)
    await station_agent(live_server, admin, station_id)
    await expect(status).to_have_text("Available", timeout=2000)


async def test_wrong_password_shows_an_error(browser: Browser, live_server: LiveServer) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_server.base_url}/login")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill("not-the-password")
    await page.keyboard.press("Enter")
    await expect(page.locator("#login-error")).to_have_text("Incorrect username or password.")
    assert page.url.endswith("/login")


async def test_an_expiry_frees_the_card_without_a_reload(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, station_id)
    session = await start_session(admin, station_id, minutes=30)
    await agent.expect(SessionStart)  # the PC takes it (acks): its time runs
    page = await open_page()
    status = card(page, "PC-01").locator(".status")
    await expect(status).to_have_text("In session")
    await end_soon(live_server, str(session["id"]), 1.5)
    await agent.expect(SessionExpired)
    await expect(status).to_have_text("Available", timeout=1500)
    await agent.close()


async def test_every_page_fits_a_tablet(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    """768 px wide: nothing spills sideways except inside scrolling tables."""
    await make_station(admin, "PC-01", "Main hall")
    page = await open_page(width=768, height=1024)
    for path in ("/", "/sessions", "/customers", "/payments", "/events", "/admin"):
        await page.goto(live_server.base_url + path)
        await expect(page.locator("#feed-status")).to_have_text("Live")
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 768, f"{path} is {width} px wide"


async def test_a_tamper_locked_station_shows_it_and_staff_clear_it_from_the_card(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-07", "Main hall")
    agent = await station_agent(live_server, admin, station_id)
    page = await open_page()
    pc = card(page, "PC-07")
    await expect(pc.locator(".status")).to_have_text("Available")
    lock = Tamper(kind="overlay_killed", detail="overlay ended 4 times in a minute", lock=True)
    await agent.send(lock)
    await expect(pc.locator(".status")).to_have_text("Tamper lock")
    await expect(pc.locator(".guard")).to_contain_text("overlay ended 4 times in a minute")
    await expect(pc.get_by_role("button", name="Start")).to_be_hidden()
    await expect(page.locator("#floor-summary")).to_contain_text("1 tamper-locked")
    await page.screenshot(path=screenshot_path("floor-tamper-lock.png"))
    await pc.get_by_role("button", name="Clear tamper lock").click()
    await agent.expect(TamperClear)
    await expect(pc.locator(".status")).to_have_text("Available")
    await expect(pc.get_by_role("button", name="Clear tamper lock")).to_be_hidden()
    await agent.close()


async def test_a_stopped_client_shows_as_stopped_not_offline_and_flags_recent_input(
    open_page: OpenPage, live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id = await make_station(admin, "PC-08", "Main hall")
    agent = await station_agent(live_server, admin, station_id)
    page = await open_page()
    pc = card(page, "PC-08")
    await start_session(admin, station_id, minutes=30)
    await agent.expect(SessionStart)
    await agent.send(Goodbye(reason="service_stop", users=["player7"], idle_seconds=2))
    await agent.close()
    await expect(pc.locator(".status")).to_have_text("Client stopped")
    guard = pc.locator(".guard")
    await expect(guard).to_contain_text("Client stopped (Service stop)")
    await expect(guard).to_contain_text("logged on: player7")
    await expect(guard).to_contain_text("in use: input 2 s before the stop")
    await expect(guard).not_to_contain_text("router")  # no venue router configured here
    await expect(guard).to_have_attribute("data-flag", "in-use")
    await expect(pc.locator(".alert")).to_contain_text("Tampering")
    await page.screenshot(path=screenshot_path("floor-client-stopped.png"))
