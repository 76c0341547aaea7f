"""The agent as venues run it on Windows, for real: Windows CPython under Wine runs
``python -m gameops.agent`` as the service part (``system.service: true``, control
``windows``), which starts the overlay in the console user's session through
WTSQueryUserToken and CreateProcessAsUserW; it connects to the real server (Linux uvicorn
on loopback). Each step is read back from the screen, pixel by pixel, and saved as PNG
(build/screenshots/wine-*.png)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent.overlay import BAND_COLOURS, BANNER_BACKGROUND, LOCK_BACKGROUND
from tests.agent.screen import VirtualDisplay
from tests.agent.test_overlay import CORNER_POINT, LOCK_POINT
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually
from tests.windows.wine import ONE_PREFIX, Wine, WineProcess, wait_for_colour, windows_path

# The first test of a run also creates the Wine prefix (up to 3 minutes on a busy machine).
pytestmark = [pytest.mark.timeout(300), ONE_PREFIX]


BANNER_POINT = (512, 4)  # the grace banner, top centre


@dataclass
class WindowsAgent:
    process: WineProcess
    log_path: Path
    station_id: str

    def log(self) -> list[dict[str, Any]]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.startswith("{")]

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.log() if entry["event"] == event]


async def _now(value: Any) -> Any:
    return value


@pytest.fixture
def system() -> str:
    """The agent's ``system`` config: the service part, with the overlay in the user's
    session (how venues install it)."""
    return "{control: windows, service: true, overlay: separate"


@pytest.fixture
async def agent(
    wine: Wine,
    live_server: LiveServer,
    tmp_path: Path,
    windows_display: VirtualDisplay,
    system: str,
) -> AsyncIterator[WindowsAgent]:
    station_id, token = await live_server.create_pc_station("PC-WINE")
    config = tmp_path / "config.yaml"
    log_path = tmp_path / "agent.log"
    config.write_text(
        f"station: {{id: '{station_id}', name: PC-WINE}}\n"
        f"backend: {{url: '{live_server.base_url}', token: '{token}'}}\n"
        "features: {show_overlay: true}\n"
        "session: {warning_time: 300, grace_period: 3}\n"
        f"system: {system}, state_file: '{windows_path(tmp_path / 'state.json')}'}}\n"
        f"log: {{file: '{windows_path(log_path)}', format: json, level: DEBUG}}\n"
    )
    process = wine.spawn("-m", "gameops.agent", "--config", windows_path(config))
    running = WindowsAgent(process, log_path, station_id)
    yield running
    await process.kill()
    await asyncio.to_thread(wine.shutdown)  # the overlay child with it
    print(process.output())
    for entry in running.log():
        print(json.dumps(entry))


async def station(admin: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return body


async def test_the_windows_agent_counts_down_extends_locks_and_logs_off(
    agent: WindowsAgent,
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    windows_display: VirtualDisplay,
) -> None:
    display = windows_display
    await eventually(lambda: station(admin, agent.station_id), lambda s: s["agent_connected"], 90)
    # The overlay, started in the user's session by the service: locked, no session yet.
    await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, "wine-1-locked-before-session")
    started = await eventually(lambda: _now(agent.logged("desktop_part_started")), bool, 30)
    assert started[0]["pid"] > 0

    session: dict[str, Any] = {}
    for minutes, band in [(30, "green"), (8, "orange"), (4, "red")]:
        if session:
            await admin.delete(f"/api/v1/sessions/{session['id']}")
            await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, f"wine-2-ended-{band}")
        session = await start_session(admin, agent.station_id, minutes=minutes)
        shot = await wait_for_colour(display, CORNER_POINT, BAND_COLOURS[band], f"wine-3-{band}")
        assert shot.pixel(*LOCK_POINT) != LOCK_BACKGROUND  # the lock view is gone

    extended = await admin.put(
        f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 15}
    )
    assert extended.status_code == 200, extended.text
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], "wine-4-extended")
    notices = await eventually(
        lambda: _now([e["text"] for e in agent.logged("agent_notify")]),
        lambda texts: "Time added!" in texts,
        30,
    )
    assert notices[0] == "Session started. Have fun!"
    # Shown by the overlay (the corner's message line), so no system notice on top.
    assert not agent.logged("windows_notify_failed")

    await end_soon(live_server, str(session["id"]), 0.3)
    await wait_for_colour(display, BANNER_POINT, BANNER_BACKGROUND, "wine-6-grace-banner")
    shot = await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, "wine-7-locked-at-expiry")
    assert shot.pixel(*CORNER_POINT) == LOCK_BACKGROUND
    # The log-off is attempted with WTSLogoffSession; Wine only stubs it (returns FALSE).
    await eventually(lambda: _now(agent.logged("windows_logoff_failed")), bool, 30)
    assert agent.logged("agent_log_off")
    assert agent.logged("windows_logoff_failed")[0]["in_service"] is True
    # Usually one overlay process all along. On a starved machine a ping can go unanswered
    # for 2 s and the overlay is restarted (then shown again with its state): said, not
    # asserted.
    print(f"overlay processes started: {len(agent.logged('desktop_part_started'))}")


@pytest.mark.parametrize(
    "system", ["{control: windows, service: false, overlay: in_process"], ids=["in_process"]
)
async def test_in_the_users_session_the_agent_logs_off_with_exit_windows_ex(
    agent: WindowsAgent,
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    windows_display: VirtualDisplay,
) -> None:
    """The agent run in the customer's own session (no service): Tk on a thread of the
    agent's process, the keyboard hook on another, ExitWindowsEx for the log-off, which
    (really) ends the session's programs."""
    display = windows_display
    await eventually(lambda: station(admin, agent.station_id), lambda s: s["agent_connected"], 90)
    await wait_for_colour(display, LOCK_POINT, LOCK_BACKGROUND, "wine-8-in-process-locked")
    session = await start_session(admin, agent.station_id, minutes=30)
    await wait_for_colour(display, CORNER_POINT, BAND_COLOURS["green"], "wine-9-in-process-green")
    assert not agent.logged("desktop_part_started")  # no second process

    await end_soon(live_server, str(session["id"]), 0.3)
    await wait_for_colour(display, BANNER_POINT, BANNER_BACKGROUND, "wine-10-in-process-grace")
    await eventually(lambda: _now(agent.logged("agent_log_off")), bool, 30)
    # A log-off ends the programs of the session, the agent among them (on a venue PC it
    # starts again at the next logon): Wine's ExitWindowsEx runs wineboot --end-session,
    # which closes the agent's windows and ends its process. The desktop is left bare.
    code = await agent.process.wait(60)
    await wait_for_colour(display, LOCK_POINT, "#000000", "wine-11-in-process-logged-off")
    print(f"agent exit code after the log-off: {code}")
    assert not agent.logged("windows_logoff_failed")
    assert not agent.logged("overlay_failed")
