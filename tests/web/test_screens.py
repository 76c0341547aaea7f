"""Every screen of the dashboard in every language, at 1280 and 768 px, on the ``gameops
demo`` venue: nothing left untranslated, no catalogue key or "undefined" on screen, nothing
wider than the window, no script error. The screenshots go to docs/screens/."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from gameops import i18n
from gameops.sim.demo import ADMIN_PASSWORD, ADMIN_USERNAME, Demo
from tests.web.conftest import TIMEOUT_MS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screens"
API = "/api/v1"
WIDTHS = {1280: 800, 768: 1024}
KEY_ON_SCREEN = re.compile(
    r"\b(?:floor|admin|plans|setup|customers|events|error|common|commands)\.[a-z_]+\b"
)


def _english_only() -> set[str]:
    """English sentences that must not show on another language's screen."""
    english, german = i18n.catalogue("en"), i18n.catalogue("de")
    return {
        text
        for key, text in english.items()
        if isinstance(text, str) and "{" not in text and len(text) >= 12 and text != german[key]
    }


async def _floor(page: Page) -> None:
    await expect(page.locator(".card").first).to_be_visible()


async def _floor_list(page: Page) -> None:
    await page.locator('[data-view="list"]').click()
    await expect(page.locator("#floor")).to_have_attribute("data-view", "list")


async def _start(page: Page) -> None:
    await page.locator('.card[data-name="PC-05"] [data-action="start"]').click()
    await expect(page.locator("#start-dialog [data-field=price]")).not_to_be_empty()


async def _rows(page: Page) -> None:
    await expect(page.locator("tbody tr").first).to_be_visible()


async def _customer(page: Page) -> None:
    await page.locator("#customers-table tbody tr button").first.click()
    await expect(page.locator("#ledger-table tbody tr").first).to_be_visible()


async def _payments(page: Page) -> None:
    await expect(page.locator('[data-field="money_in"]')).not_to_have_text("—")


async def _till(page: Page) -> None:
    await expect(page.locator('[data-field="expected"]')).not_to_have_text("—")
    await expect(page.locator("#receipts-table tbody tr").first).to_be_visible()


async def _shop(page: Page) -> None:
    await expect(page.locator("#products")).to_be_visible()


async def _setup(page: Page) -> None:
    await page.locator('#stations-table tr[data-name="PC-12"] button').nth(2).click()
    await page.locator("#confirm-dialog [type=submit]").click()
    await expect(page.locator('#setup-dialog [name="silent"]')).not_to_have_value("")


async def _plan(page: Page) -> None:
    await page.locator("#plans-table tbody tr button").first.click()
    slot = page.locator("#week-grid .slot[data-rule='0']").first
    await expect(slot).to_have_css("background-color", "rgb(77, 163, 255)")  # the rule's colour


async def _page(page: Page) -> None:
    await expect(page.locator("main h1")).to_be_visible()


# name -> (path, how to get the screen ready)
SCREENS: dict[str, tuple[str, Callable[[Page], Awaitable[None]]]] = {
    "floor": ("/", _floor),
    "floor-list": ("/", _floor_list),
    "floor-start": ("/", _start),
    "sessions": ("/sessions", _rows),
    "customers": ("/customers", _customer),
    "payments": ("/payments", _payments),
    "till": ("/till", _till),
    "shop": ("/shop", _shop),
    "events": ("/events", _rows),
    "admin": ("/admin", _rows),
    "admin-setup-pc": ("/admin", _setup),
    "admin-rate-plan": ("/admin", _plan),
    "tickets": ("/tickets", _page),
}


async def _venue_extras(demo: Demo) -> httpx.AsyncClient:
    """The demo venue plus a rate plan with a time rule and a package (for its form)."""
    client = httpx.AsyncClient(base_url=demo.url, timeout=30)
    login = await client.post(
        f"{API}/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    plan = {
        "zone": "Arena",
        "name": "Arena prices",
        "member_hourly_rate": 500,
        "guest_hourly_rate": 800,
        "rules": [
            {
                "name": "Late night",
                "start": "22:00",
                "end": "02:00",
                "days": [4, 5],
                "member_hourly_rate": 400,
                "guest_hourly_rate": 600,
            },
        ],
        "packages": [{"name": "Night pack", "minutes": 300, "price": 2000}],
    }
    created = await client.post(f"{API}/pricing/plans", json=plan)
    assert created.status_code == 201, created.text
    return client


async def _check(page: Page, language: str, english_only: set[str]) -> None:
    text = await page.locator("body").inner_text()
    assert "undefined" not in text and "NaN" not in text
    assert KEY_ON_SCREEN.findall(text) == []
    if language != "en":
        assert sorted(s for s in english_only if s in text) == []
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px wider than the window"
    cut = await page.evaluate(
        """[...document.querySelectorAll("dialog[open] form, main")]
        .filter((box) => box.scrollWidth > box.clientWidth + 1)
        .map((box) => box.outerHTML.slice(0, 80))"""
    )
    assert cut == [], "content wider than its box"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_every_screen_in_every_language_and_width(
    demo: Demo,
    demo_browser: Browser,
    language: str,
) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    client = await _venue_extras(demo)
    mine = await client.patch(f"{API}/users/me", json={"language": language})
    assert mine.status_code == 200, mine.text
    english_only = _english_only()
    for width, height in WIDTHS.items():
        context = await demo_browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, seen=errors: seen.append(str(error)))
        await page.goto(f"{demo.url}/login")
        await page.locator('[name="username"]').fill(ADMIN_USERNAME)
        await page.locator('[name="password"]').fill(ADMIN_PASSWORD)
        await page.locator("#login-form [type=submit]").click()
        await page.wait_for_url(f"{demo.url}/")
        for name, (path, ready) in SCREENS.items():
            await page.goto(demo.url + path)
            await expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")
            await expect(page.locator("html")).to_have_attribute("lang", language)
            await ready(page)
            try:
                await _check(page, language, english_only)
            except AssertionError as err:
                raise AssertionError(f"{name} at {width} px in {language}: {err}") from err
            await page.screenshot(path=DOCS / f"{name}-{language}-{width}.png")
        assert errors == []
        await context.close()
    await client.aclose()
