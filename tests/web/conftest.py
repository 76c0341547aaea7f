"""Browser fixtures: Debian's Chromium driven headless by Playwright, against ``live_server``.

Without /usr/bin/chromium the tests skip with the reason; under ``CI=true`` they fail.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gameops.server.bus import EVENTS
from gameops.sim.demo import Demo
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer
from tests.support.wake import udp_receiver  # noqa: F401 - a fixture (wake-on-LAN tests)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"
# How long an action, a navigation or an `expect` waits for its condition. Not a latency
# bound (tests that claim one pass their own timeout): `make test` runs two workers on a
# 2-core machine shared with other suites, where a page's first load can take over 5 s.
TIMEOUT_MS = 15_000

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")
Browser = playwright_api.Browser
playwright_api.expect.set_options(timeout=TIMEOUT_MS)
Page = playwright_api.Page

OpenPage = Callable[..., Awaitable["playwright_api.Page"]]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}; CI needs it for the dashboard tests")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path, live_server: LiveServer) -> AsyncIterator[playwright_api.Browser]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()
    await _wake_dashboard_feeds(live_server)


async def _wake_dashboard_feeds(live_server: LiveServer) -> None:
    """The /ws/dashboard handler notices a client has left only when the next event comes
    (it waits on the bus), and until then uvicorn's shutdown waits for it. Send it one.
    Reported as a server bug; this keeps the tests from hanging until it is fixed."""
    await asyncio.sleep(0.2)
    await live_server.services.bus.publish(EVENTS, {"type": "test-wake-up"})


async def stop_server(live_server: LiveServer) -> None:
    """Stop the server while browsers are connected (see ``_wake_dashboard_feeds``)."""
    bus = live_server.services.bus
    stopping = asyncio.create_task(live_server.stop())
    while not stopping.done():
        await asyncio.sleep(0.2)
        await bus.publish(EVENTS, {"type": "test-wake-up"})
    await stopping


@pytest.fixture
def open_page(browser: playwright_api.Browser, live_server: LiveServer) -> OpenPage:
    """A new browser context (its own storage: another operator's screen), logged in."""

    async def open_page(
        path: str = "/",
        username: str = ADMIN_USERNAME,
        password: str = ADMIN_PASSWORD,
        width: int = 1280,
        height: int = 800,
    ) -> playwright_api.Page:
        context = await browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        await page.goto(f"{live_server.base_url}/login")
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(f"{live_server.base_url}/")
        if path != "/":
            await page.goto(live_server.base_url + path)
        await playwright_api.expect(page.locator("#feed-status")).to_have_text("Live")
        return page

    return open_page


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


# The `gameops demo` venue, for the screenshots in docs/.
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    venue = Demo(tmp_path / "demo", port=_free_port())
    await venue.start()
    yield venue
    await venue.stop()


@pytest.fixture
async def demo_browser(chromium: Path, demo: Demo) -> AsyncIterator[playwright_api.Browser]:
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()
