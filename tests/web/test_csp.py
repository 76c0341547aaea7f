"""The dashboard works under its Content-Security-Policy: no page trips a violation."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support.live_server import LiveServer
from tests.support.waiting import eventually
from tests.web.conftest import OpenPage


async def test_every_page_runs_under_the_csp_without_a_violation(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    page = await open_page()
    # Chromium reports each refusal on the console: "Refused to ... Content Security Policy".
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    for path in ("/", "/sessions", "/customers", "/payments", "/events", "/admin"):
        await page.goto(live_server.base_url + path)
        await expect(page.locator("#feed-status")).to_have_text("Live")
        if path == "/payments":  # the legend's colour squares are set from script
            swatch = page.locator("#legend li span").first
            await expect(swatch).to_be_visible()
            # Painted by the page's script once its data is in (the legend may be redrawn).
            colour = await eventually(
                lambda swatch=swatch: swatch.evaluate(
                    "node => getComputedStyle(node).backgroundColor"
                ),
                lambda painted: painted not in ("", "rgba(0, 0, 0, 0)"),
            )
            assert colour not in ("", "rgba(0, 0, 0, 0)")
    assert violations == []
