"""Card sales on the floor, against the Stripe emulator: the card waits for the payment,
"Card paid" starts the session once the customer has paid, "Call off" frees the station."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from gameops.protocol import SessionStart
from gameops.server.settings import Settings
from tests.support.live_server import LiveServer, server_settings
from tests.support.stripe import EmulatorServer
from tests.web.conftest import OpenPage
from tests.web.test_floor import card, make_station, station_agent

API = "/api/v1"


@pytest.fixture
async def stripe_sim() -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, stripe_sim: EmulatorServer) -> Settings:
    """The live server takes cards through the emulator."""
    return server_settings(
        database_url,
        tmp_path / "data",
        payment_gateway="stripe",
        stripe_api_base=stripe_sim.base_url,
        stripe_api_key="sk_test_gameops_emulator",
        stripe_webhook_secret="whsec_gameops_emulator",
        gateway_timeout_seconds=2.0,
        payments_sweep_seconds=3600.0,
    )


async def _sell_by_card(page_card: Locator, page: Page) -> None:
    await page_card.get_by_role("button", name="Start").click()
    dialog = page.locator("#start-dialog")
    await dialog.get_by_label("Payment").select_option("CARD")
    await dialog.get_by_role("button", name="Start").click()
    await expect(dialog).to_be_hidden()


async def test_a_card_sale_waits_for_the_payment_then_starts(
    open_page: OpenPage,
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    stripe_sim: EmulatorServer,
) -> None:
    station_id = await make_station(admin, "PC-01", "Main hall")
    agent = await station_agent(live_server, admin, station_id, hello=False)
    page = await open_page()
    pc = card(page, "PC-01")

    await _sell_by_card(pc, page)
    await expect(pc.locator(".status")).to_have_text("Waiting for card payment")
    await expect(pc.locator(".note")).to_have_text("Card payment of $6.00 waiting.")
    await expect(pc.get_by_role("button", name="Start")).to_be_hidden()
    await pc.get_by_role("button", name="Card paid").click()  # the customer has not paid yet
    await expect(pc.locator(".error")).to_be_visible()
    with pytest.raises(TimeoutError):  # nothing reaches the PC before the card is paid
        await agent.expect(SessionStart, timeout=0.5)

    [intent] = stripe_sim.emulator.intents.values()
    await stripe_sim.pay(intent["client_secret"])
    await pc.get_by_role("button", name="Card paid").click()
    started = await agent.expect(SessionStart)
    assert started.duration_minutes == 60
    await expect(pc.locator(".status")).to_have_text("In session")
    await expect(pc.locator(".error")).to_be_hidden()
    await expect(pc.locator(".timer")).to_have_text(re.compile(r"^(1:00:00|59:5\d)$"))
    await agent.close()


async def test_an_unpaid_card_sale_can_be_called_off(
    open_page: OpenPage, admin: httpx.AsyncClient
) -> None:
    await make_station(admin, "PC-02", "Main hall")
    page = await open_page()
    pc = card(page, "PC-02")
    await _sell_by_card(pc, page)
    await expect(pc.locator(".status")).to_have_text("Waiting for card payment")
    await pc.get_by_role("button", name="Call off").click()
    await expect(pc.locator(".status")).to_have_text("Offline")
    await expect(pc.get_by_role("button", name="Start")).to_be_visible()
    sessions = (await admin.get(f"{API}/sessions")).json()["items"]
    assert [s["status"] for s in sessions] == ["CANCELLED"]
