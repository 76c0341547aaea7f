"""The Tk login view under Xvfb, in the Windows layout (the overlay as its own process): a
customer types a username and PIN with the keyboard, plays, and logs out with the overlay's
button. Screenshots land in build/screenshots (docs/agent-login-view.png is one)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from gameops.agent.overlay import BAND_COLOURS, FORM_BACKGROUND, LOCK_BACKGROUND
from gameops.server.settings import Settings
from tests.agent.harness import StartOnScreen, wait_until
from tests.agent.screen import (
    SCREEN,
    Screenshot,
    VirtualDisplay,
    click_and_type,
    require_display_tools,
    save,
    wait_for_colour,
    xdotool,
)
from tests.support.live_server import LiveServer
from tests.support.money import balance_of, create_customer, ledger_of, top_up

PIN = "2468"
FORM_POINT = (SCREEN[0] // 2 - 140, int(SCREEN[1] * 0.49) + 4)  # the form's top-left area
USERNAME_FIELD = (SCREEN[0] // 2, int(SCREEN[1] * 0.49) + 106)
LOGOUT_BUTTON = (SCREEN[0] - 60, 112)  # the corner's "Log out", right of the balance
CORNER_POINT = (SCREEN[0] - 20, 20)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"venue_name": "Pixel Lounge", "play_block_seconds": 900})


async def test_log_in_by_keyboard_play_and_log_out_with_the_button(
    admin: httpx.AsyncClient,
    display: VirtualDisplay,
    start_on_screen: StartOnScreen,
) -> None:
    require_display_tools(input_too=True)
    customer = await create_customer(admin, pin=PIN)
    assert (await top_up(admin, customer["id"], 1000)).status_code == 201
    running, _ = await start_on_screen("PC-07")  # 6.00 an hour
    await wait_until(lambda: running.agent.machine.station_info is not None)

    shot = await wait_for_colour(display, FORM_POINT, FORM_BACKGROUND, "login-1-view")
    assert shot.pixel(SCREEN[0] // 2, SCREEN[1] // 5) == LOCK_BACKGROUND
    await click_and_type(display, USERNAME_FIELD, customer["username"])
    await xdotool(display, "key", "Tab", "type", PIN)
    await xdotool(display, "key", "Return")
    await wait_until(lambda: running.mode() == "session", seconds=8)
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], "login-2-playing")

    await click_and_type(display, LOGOUT_BUTTON)
    await wait_until(lambda: running.mode() == "locked", seconds=8)
    await wait_for_colour(display, FORM_POINT, FORM_BACKGROUND, "login-3-logged-out")
    ledger = await ledger_of(admin, customer["id"])
    assert [entry["kind"] for entry in ledger].count("REFUND") == 1
    assert sum(entry["amount"] for entry in ledger) == await balance_of(admin, customer["id"])
    await running.stop()


NOTICE = "#fbbf24"  # the booking notice's amber (the refusal line, empty here, shares it)


def amber_rows(shot: Screenshot) -> list[int]:
    """Rows of the form's upper half with amber text in them."""
    top, bottom = int(SCREEN[1] * 0.45), int(SCREEN[1] * 0.62)
    left, right = SCREEN[0] // 2 - 200, SCREEN[0] // 2 + 200
    return [
        y
        for y in range(top, bottom)
        if any(shot.pixel(x, y) == NOTICE for x in range(left, right, 2))
    ]


async def test_a_booked_pc_says_whom_it_is_reserved_for(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    display: VirtualDisplay,
    start_on_screen: StartOnScreen,
) -> None:
    require_display_tools()
    customer = await create_customer(admin, pin=PIN, full_name="Ada Lovelace")
    assert (await top_up(admin, customer["id"], 1000)).status_code == 201
    running, station_id = await start_on_screen("PC-08")
    await wait_until(lambda: running.agent.machine.station_info is not None)
    shot = await wait_for_colour(display, FORM_POINT, FORM_BACKGROUND, "reserved-1-free")
    assert amber_rows(shot) == []

    member = live_server.client(await live_server.login(customer["username"], PIN))
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    body = {"starts_at": start.isoformat(), "minutes": 60, "station_id": station_id}
    assert (await member.post("/api/v1/reservations", json=body)).status_code == 201
    await wait_until(lambda: running.agent.machine.station_info.reserved is not None)  # type: ignore[union-attr]
    for _ in range(50):  # the overlay process redraws on its next view update
        shot = await asyncio.to_thread(display.screenshot)
        if amber_rows(shot):
            break
        await asyncio.sleep(0.1)
    await asyncio.to_thread(save, shot, "reserved-2-held")
    assert amber_rows(shot), "no 'Reserved for Ada' line on the login view"
    await running.stop()
