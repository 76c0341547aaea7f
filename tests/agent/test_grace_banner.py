"""The grace period on a real screen (Xvfb): when paid time runs out the customer's desktop
stays visible and usable under a top-most banner counting down, so work can be saved; the
lock view comes at the log-off moment. Usable is proven with input, not only pixels: a
click and keystrokes reach a window behind the banner during the grace, and no longer after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from gameops.agent.clock import Instant, SystemClock
from gameops.agent.overlay import BAND_COLOURS, BANNER_BACKGROUND, LOCK_BACKGROUND
from gameops.server.settings import Settings
from tests.agent import desktop_app
from tests.agent.desktop_app import DesktopApp
from tests.agent.harness import RunningAgent, agent_config, wait_until
from tests.agent.screen import (
    SCREEN,
    VirtualDisplay,
    click_and_type,
    require_display_tools,
    wait_for_colour,
)
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session

SERVER_GRACE_SECONDS = 300  # longer than any test: the test moves the agent's clock instead
BANNER_POINT = (SCREEN[0] // 2, 3)  # the banner's top edge, centred
CORNER_POINT = (SCREEN[0] - 20, 20)  # inside the corner timer
GRACE_INPUT = ["click {} {}".format(*desktop_app.INSIDE), *(f"key {c}" for c in "save")]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"logoff_grace_seconds": SERVER_GRACE_SECONDS})


class FastForwardClock:
    """The real clocks, both moved forward together when a test skips time (so the agent
    sees time pass, not a changed clock)."""

    def __init__(self) -> None:
        self.inner = SystemClock()
        self.skipped = 0.0

    def now(self) -> Instant:
        reading = self.inner.now()
        skipped = self.skipped
        return Instant(reading.steady + skipped, reading.wall + timedelta(seconds=skipped))


@pytest.fixture
async def customer_app(display: VirtualDisplay) -> AsyncIterator[DesktopApp]:
    require_display_tools(input_too=True)
    app = await DesktopApp.start(display.name)
    yield app
    await app.close()


@pytest.mark.parametrize("mode", ["separate", "in_process"])
async def test_the_desktop_stays_usable_under_a_banner_during_the_grace_then_locks(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    tmp_path: Path,
    display: VirtualDisplay,
    monkeypatch: pytest.MonkeyPatch,
    on_screen: list[RunningAgent],
    customer_app: DesktopApp,
    mode: str,
) -> None:
    monkeypatch.setenv("DISPLAY", display.name)
    station_id, token = await live_server.create_pc_station("PC-GRACE")
    clock = FastForwardClock()
    config = agent_config(live_server.base_url, station_id, token, overlay=True, overlay_mode=mode)
    running = RunningAgent(config, tmp_path / "state.json", clock=clock).start()
    on_screen.append(running)
    await wait_until(lambda: running.agent.link.connected)
    session = await start_session(admin, station_id, minutes=30)
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], f"grace-1-session-{mode}")

    await end_soon(live_server, str(session["id"]), 0.2)
    await wait_until(lambda: running.mode() == "grace")
    shot = await wait_for_colour(display, BANNER_POINT, BANNER_BACKGROUND, f"grace-2-{mode}")
    assert shot.pixel(*desktop_app.INSIDE) == desktop_app.COLOUR  # the desktop is visible
    assert shot.pixel(*CORNER_POINT) != BAND_COLOURS["green"]  # the banner replaced the timer
    await customer_app.received()  # forget anything from before
    await click_and_type(display, desktop_app.INSIDE, "save")
    assert await customer_app.received() == GRACE_INPUT  # ... and usable
    assert running.mode() == "grace"
    assert "log_off" not in running.control.names()

    clock.skipped = SERVER_GRACE_SECONDS  # the log-off moment
    await wait_until(lambda: "log_off" in running.control.names())
    assert running.mode() == "locked"
    await wait_for_colour(display, desktop_app.INSIDE, LOCK_BACKGROUND, f"grace-3-locked-{mode}")
    await click_and_type(display, desktop_app.INSIDE, "more")
    assert await customer_app.received() == []  # the lock view took them
