"""``gameops demo`` fills a living venue; the floor screenshots in docs/ come from it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from gameops.sim.demo import ADMIN_PASSWORD, ADMIN_USERNAME, CONSOLES, SESSIONS, Demo
from tests.web.conftest import TIMEOUT_MS, screenshot_path


async def test_demo_floor_is_alive(demo: Demo, demo_browser: Browser) -> None:
    for width, height, name in (
        (1280, 800, "dashboard-floor.png"),
        (768, 1024, "dashboard-floor-768.png"),
    ):
        context = await demo_browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        await page.goto(f"{demo.url}/login")
        await page.get_by_label("Username").fill(ADMIN_USERNAME)
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("#feed-status")).to_have_text("Live")
        await expect(page.locator(".zone h2")).to_have_text(
            ["Arena", "Console lounge", "Main hall"]
        )
        await expect(page.locator(".card")).to_have_count(12 + len(CONSOLES))
        await expect(page.locator('.card[data-status="IN_SESSION"]')).to_have_count(len(SESSIONS))
        await expect(page.locator('.card[data-name="PC-12"] .status')).to_have_text("Offline")
        await expect(page.locator('.card[data-name="PC-08"] .status')).to_have_text("Maintenance")
        await expect(page.locator('.card[data-name="PC-04"] .timer')).to_have_attribute(
            "data-band", "orange"
        )
        await expect(page.locator('.card[data-name="PC-09"] .timer')).to_have_attribute(
            "data-band", "red"
        )
        await expect(page.locator('.card[data-name="PC-02"] .customer')).to_have_text("Alex Rivera")
        # Plugs are sampled every 5 s and the floor refreshes them every 5 s.
        power = page.locator('.card[data-name="PS5-1"] .power')
        await expect(power).to_contain_text(" W · plug on", timeout=15_000)
        await page.screenshot(path=screenshot_path(name), full_page=True)
        await context.close()
