"""Staff commands from the floor in a real browser, carried out by real agents (Simulated
backend) over real WebSockets: message, lock, restart and wake a selection of stations and
see each acked live; a restart during a paid session asks first and says what happens."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from gameops.server.settings import Settings
from tests.agent.harness import connected_agent
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import eventually
from tests.support.wake import net_specs, waking_to
from tests.web.conftest import OpenPage, screenshot_path


@pytest.fixture
def settings(settings: Settings, udp_receiver: socket.socket) -> Settings:
    return waking_to(settings, udp_receiver)


def card(page: Page, name: str) -> Locator:
    return page.locator(f'.card[data-name="{name}"]')


def logged(page: Page, name: str, kind: str) -> Locator:
    return page.locator(f'#command-log li[data-kind="{kind}"]', has_text=name).first


async def select(page: Page, *names: str) -> None:
    await page.get_by_role("button", name="Clear selection").click()
    for name in names:
        await page.get_by_label(f"Select {name}").check()
    await expect(page.locator('#command-bar [data-field="count"]')).to_have_text(
        f"{len(names)} selected"
    )


async def test_message_lock_restart_wake_a_selection_and_see_each_acked(
    open_page: OpenPage,
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    tmp_path: Path,
    udp_receiver: socket.socket,
) -> None:
    one, _ = await connected_agent(
        live_server, tmp_path, "PC-01", net_specs("02:00:00:00:00:01", "127.0.0.11")
    )
    two, two_id = await connected_agent(
        live_server, tmp_path, "PC-02", net_specs("02:00:00:00:00:02", "127.0.0.12")
    )
    sleeper, sleeper_id = await connected_agent(
        live_server, tmp_path, "PC-03", net_specs("02:00:00:00:00:03", "127.0.0.13")
    )
    await eventually(
        lambda: admin.get(f"/api/v1/stations/{sleeper_id}"), lambda r: r.json()["specs"]["macs"]
    )
    await sleeper.stop()  # switched off: its MAC and subnet are known from before
    page = await open_page()
    await expect(card(page, "PC-03").locator(".status")).to_have_text("Client stopped")

    await page.get_by_label("Find").fill("PC-01")  # "Select all" takes what the filters show
    await expect(card(page, "PC-02")).to_be_hidden()
    await page.get_by_role("button", name="Select all").click()
    await expect(page.locator('#command-bar [data-field="count"]')).to_have_text("1 selected")
    await page.get_by_label("Find").fill("")
    await expect(card(page, "PC-02")).to_be_visible()
    await select(page, "PC-01", "PC-02")
    await page.get_by_label("Message text").fill("Tournament starts in 10 minutes")
    await page.get_by_role("button", name="Send message").click()
    for name in ("PC-01", "PC-02"):
        await expect(logged(page, name, "message")).to_have_attribute("data-status", "DONE")
        await expect(logged(page, name, "message")).to_contain_text("Done: shown as a notification")
    for running in (one, two):
        notified = ("notify", "Message from staff", "Tournament starts in 10 minutes")
        assert notified in running.control.actions
    # The customer at PC-02 clicks "Got it" (the overlay's click, through the agent).
    message_id = await logged(page, "PC-02", "message").get_attribute("data-command-id")
    assert message_id is not None
    two.agent.commands.seen(message_id)
    await expect(logged(page, "PC-02", "message")).to_contain_text("✓ Got it")

    await page.get_by_role("button", name="Lock now").click()
    for name in ("PC-01", "PC-02"):
        await expect(logged(page, name, "lock")).to_contain_text("Done: locked")
    assert "lock_screen" in one.control.names() and "lock_screen" in two.control.names()

    # A restart while PC-02 is in paid time: asked first, with what happens to the session.
    await start_session(admin, two_id, minutes=60)
    await expect(card(page, "PC-02").locator(".status")).to_have_text("In session")
    await page.get_by_role("button", name="Restart").click()
    await expect(logged(page, "PC-01", "restart")).to_contain_text("Done: restart started")
    dialog = page.locator("#command-confirm-dialog")
    await expect(dialog).to_contain_text("PC-02: The session keeps running")
    await page.screenshot(path=screenshot_path("commands-confirm-restart.png"))
    await dialog.get_by_role("button", name="Restart anyway").click()
    await expect(logged(page, "PC-02", "restart")).to_contain_text("Done: restart started")
    assert ("power", "restart") in one.control.actions and (
        "power",
        "restart",
    ) in two.control.actions
    await expect(card(page, "PC-02").locator(".status")).to_have_text("In session")  # kept

    await select(page, "PC-03")
    await page.get_by_role("button", name="Restart").click()  # off: refused, wake offered
    await expect(logged(page, "PC-03", "restart")).to_contain_text("offline: use wake")
    await logged(page, "PC-03", "restart").get_by_role("button", name="Wake it").click()
    await expect(logged(page, "PC-03", "wake")).to_contain_text(
        "Done: magic packet for 02:00:00:00:00:03 sent to 127.255.255.255"
    )
    packet, _ = await asyncio.to_thread(udp_receiver.recvfrom, 1024)
    assert packet == b"\xff" * 6 + bytes.fromhex("020000000003") * 16
    await expect(card(page, "PC-03").locator(".command-state")).to_contain_text("Wake: Done")
    await page.screenshot(path=screenshot_path("commands-floor.png"), full_page=True)
    await page.reload()  # the log is the server's history, not the page's memory
    await expect(logged(page, "PC-03", "wake")).to_contain_text("Done: magic packet")
    await expect(logged(page, "PC-02", "message")).to_contain_text("✓ Got it")
    await expect(page.locator("#command-log li")).to_have_count(7)  # refusals are not kept
    await one.stop()
    await two.stop()
