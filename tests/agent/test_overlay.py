"""The real overlay (user-session part, Tk) under Xvfb, driven by a real agent and a real
server: screenshots of the screen, pixel colours of the timer in each band and of the lock
view; and the supervisor bringing a killed overlay back."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

import httpx
import pytest

from gameops.agent.overlay import BAND_COLOURS, CORNER_MARGIN, CORNER_SIZE, LOCK_BACKGROUND
from tests.agent.harness import (
    RunningAgent,
    StartOnScreen,
    agent_config,
    tamper_kinds,
    wait_for_tamper,
    wait_until,
)
from tests.agent.screen import SCREEN, VirtualDisplay, wait_for_colour
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session

# Inside the corner window, left of the centred text: the band colour.
CORNER_POINT = (SCREEN[0] - CORNER_SIZE[0] - CORNER_MARGIN + 4, CORNER_MARGIN + 4)
# Above the lock view's title: its background.
LOCK_POINT = (SCREEN[0] // 2, SCREEN[1] // 5)


@pytest.mark.parametrize("mode", ["separate", "in_process"])
async def test_timer_colour_in_each_band_and_lock_view_after_the_grace(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    display: VirtualDisplay,
    start_on_screen: StartOnScreen,
    mode: str,
) -> None:
    running, station_id = await start_on_screen("PC-SCREEN", grace=30, overlay_mode=mode)
    # In process there is no second process; in a separate one, no overlay thread.
    assert (running.agent.supervisor is None) == (mode == "in_process")
    assert ("agent-overlay" in {t.name for t in threading.enumerate()}) == (mode == "in_process")
    await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, f"1-locked-before-session-{mode}")

    session: dict[str, object] = {}
    for minutes, band in [(30, "green"), (8, "orange"), (4, "red")]:
        if session:
            await admin.delete(f"/api/v1/sessions/{session['id']}")
            await wait_until(lambda: running.mode() == "locked")
        session = await start_session(admin, station_id, minutes=minutes)
        shot = await wait_for_colour(display, CORNER_POINT, BAND_COLOURS[band], f"2-{band}-{mode}")
        assert shot.pixel(*LOCK_POINT) != LOCK_BACKGROUND  # the lock view is gone

    await end_soon(live_server, str(session["id"]), 0.3)
    # The grace (1 s here; test_grace_banner.py shows it), then the lock with the log-off.
    await wait_until(lambda: "log_off" in running.control.names())
    shot = await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, f"3-ended-{mode}")
    assert shot.pixel(*CORNER_POINT) == LOCK_BACKGROUND  # the full-screen view covers the timer
    # The user-session part locks: in its own process (not this control), or on its thread.
    assert ("lock_screen" in running.control.names()) == (mode == "in_process")
    await running.stop()


async def test_killed_overlay_comes_back_within_five_seconds_and_is_reported(
    admin: httpx.AsyncClient,
    display: VirtualDisplay,
    start_on_screen: StartOnScreen,
) -> None:
    running, station_id = await start_on_screen("PC-SCREEN", grace=30)
    await start_session(admin, station_id, minutes=30)
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], "4-before-kill")
    supervisor = running.agent.supervisor
    assert supervisor is not None
    assert supervisor.process is not None
    os.kill(supervisor.process.pid, signal.SIGKILL)  # as Task Manager's "End task" would
    killed_at = asyncio.get_running_loop().time()
    await wait_until(lambda: supervisor.starts == 2, seconds=5)
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], "5-after-kill")
    assert asyncio.get_running_loop().time() - killed_at < 5
    assert await wait_for_tamper(admin, "overlay_killed") == ["overlay_killed"]
    await running.stop()


async def test_supervisor_restarts_the_user_session_part_without_a_display(
    live_server: LiveServer, tmp_path: Path
) -> None:
    # Same watchdog, with a stand-in child: runs everywhere, no X needed.
    station_id, token = await live_server.create_pc_station("PC-WATCHDOG")
    config = agent_config(live_server.base_url, station_id, token, overlay=True)
    stand_in = [sys.executable, "-c", "import time; time.sleep(60)"]
    running = RunningAgent(config, tmp_path / "state.json", overlay_command=stand_in).start()
    await wait_until(lambda: running.agent.supervisor is not None)
    supervisor = running.agent.supervisor
    assert supervisor is not None
    await wait_until(lambda: supervisor.process is not None)
    assert supervisor.process is not None
    first_pid = supervisor.process.pid
    supervisor.process.terminate()
    await wait_until(lambda: supervisor.starts == 2, seconds=5)
    assert supervisor.process.pid != first_pid
    await running.stop()
    assert supervisor.process.returncode is not None  # stopping the agent stops the child


async def test_the_overlay_ending_with_our_own_log_off_is_not_tamper(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-LOGOFF")
    config = agent_config(live_server.base_url, station_id, token, overlay=True)
    stand_in = [sys.executable, "-c", "import time; time.sleep(60)"]
    running = RunningAgent(config, tmp_path / "state.json", overlay_command=stand_in).start()
    await wait_until(lambda: running.agent.link.connected)
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    await end_soon(live_server, str(session["id"]), 0.2)
    await wait_until(lambda: "log_off" in running.control.names(), seconds=5)
    supervisor = running.agent.supervisor
    assert supervisor is not None
    assert supervisor.process is not None
    supervisor.process.terminate()  # Windows ends the user's processes at log-off
    await wait_until(lambda: supervisor.starts == 2, seconds=5)
    await asyncio.sleep(0.5)  # what would have been reported by now
    assert await tamper_kinds(admin) == []
    await running.stop()


async def test_an_overlay_that_cannot_start_is_reported_once_as_failed(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-NODISPLAY")
    config = agent_config(live_server.base_url, station_id, token, overlay=True)
    broken = [sys.executable, "-c", "raise SystemExit(1)"]  # as Tk does without a display
    running = RunningAgent(config, tmp_path / "state.json", overlay_command=broken).start()
    await wait_until(lambda: running.agent.supervisor is not None)
    supervisor = running.agent.supervisor
    assert supervisor is not None
    await wait_until(lambda: supervisor.starts >= 3, seconds=10)
    assert await wait_for_tamper(admin, "overlay_failed") == ["overlay_failed"]
    await running.stop()


async def test_an_in_process_overlay_without_a_display_falls_back_to_the_system_lock(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", ":9999")  # no X server there: Tk cannot start
    station_id, token = await live_server.create_pc_station("PC-NOTK")
    config = agent_config(
        live_server.base_url, station_id, token, overlay=True, overlay_mode="in_process"
    )
    running = RunningAgent(config, tmp_path / "state.json").start()
    assert await wait_for_tamper(admin, "overlay_failed") == ["overlay_failed"]
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    await admin.delete(f"/api/v1/sessions/{session['id']}")
    await wait_until(lambda: "lock_screen" in running.control.names(), seconds=5)
    await running.stop()
