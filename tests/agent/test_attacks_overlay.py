"""Attacks on the overlay, end to end: the real server, the real agent as its own process
(simulated system backend) and its real Tk overlay on Xvfb, read back pixel by pixel.

- Kill loop: the overlay killed as soon as it is back, four times in a row during a paid
  session. Each kill is reported; the fourth (more than 3 a minute) locks the station,
  logs off after the grace, and holds until staff clear it from the dashboard's API.
- Freeze: the overlay SIGSTOPped. The service sees no answer to its pings within 2 s,
  kills it and starts a new one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gameops.agent.overlay import BAND_COLOURS, LOCK_BACKGROUND
from gameops.agent.supervisor import FREEZE_SECONDS, PING_SECONDS
from tests.agent.agentproc import AgentProcess, events, poll, record_figures, station
from tests.agent.screen import VirtualDisplay, require_display_tools, save
from tests.agent.test_overlay import CORNER_POINT, LOCK_POINT
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import eventually

GREEN = BAND_COLOURS["green"]


@pytest.fixture(scope="module")
def display() -> Iterator[VirtualDisplay]:
    require_display_tools()
    virtual = VirtualDisplay()
    yield virtual
    virtual.close()


@pytest.fixture
async def agent(
    live_server: LiveServer, display: VirtualDisplay, tmp_path: os.PathLike[str]
) -> AsyncIterator[AgentProcess]:
    station_id, token = await live_server.create_pc_station("PC-ATTACKED")
    process = AgentProcess(
        tmp_path,  # type: ignore[arg-type]
        live_server.base_url,
        station_id,
        token,
        overlay=True,
        grace=3,
        env={"DISPLAY": display.name},
    )
    await process.start()
    yield process
    await process.stop(signal.SIGKILL)


def showing(display: VirtualDisplay, point: tuple[int, int], colour: str) -> bool:
    return display.screenshot().pixel(*point) == colour


async def on_screen(display: VirtualDisplay, point: tuple[int, int], colour: str) -> float:
    """Seconds until ``point`` shows ``colour`` (screenshots every 50 ms, 10 s at most)."""
    started = time.monotonic()
    async with asyncio.timeout(10):
        while not await asyncio.to_thread(showing, display, point, colour):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return time.monotonic() - started


async def in_session(
    agent: AgentProcess, admin: httpx.AsyncClient, display: VirtualDisplay
) -> None:
    await eventually(lambda: station(admin, agent.station_id), lambda s: s["agent_connected"], 15)
    await start_session(admin, agent.station_id, minutes=30)
    await on_screen(display, CORNER_POINT, GREEN)


async def test_a_kill_loop_is_reported_each_time_and_locks_until_staff_clear_it(
    live_server: LiveServer, admin: httpx.AsyncClient, display: VirtualDisplay, agent: AgentProcess
) -> None:
    await in_session(agent, admin, display)
    back_as_process, back_on_screen = [], []
    for kill in range(1, 5):
        [pid] = agent.overlay_pids()
        os.kill(pid, signal.SIGKILL)  # Task Manager's "End task", as fast as a script can
        back_as_process.append(await poll(lambda pid=pid: _replaced(agent, pid)))  # type: ignore[misc]
        expected = (CORNER_POINT, GREEN) if kill < 4 else (LOCK_POINT, LOCK_BACKGROUND)
        back_on_screen.append(await on_screen(display, *expected))

    reports = await eventually(
        lambda: events(admin, "AGENT_TAMPER", agent.station_id), lambda e: len(e) >= 4
    )
    kills = [e["data"] for e in reports if e["data"]["kind"] == "overlay_killed"]
    assert [k.get("count", 1) for k in kills] == [1, 2, 3, 4]
    assert kills[-1].get("lock") is True and "lock" not in kills[0]
    locked = await station(admin, agent.station_id)
    assert locked["tamper_locked_at"] is not None
    refused = await admin.post(
        "/api/v1/sessions/start", json={"station_id": agent.station_id, "duration_minutes": 30}
    )
    assert refused.status_code == 409  # no selling time on it meanwhile
    await poll(lambda: bool(agent.logged("agent_log_off")), seconds=10)
    logoff_after_lock = agent.seconds_between("agent_tamper_lock", "agent_log_off")
    # By now the restarted overlay has been given the state: the tamper lock view.
    await asyncio.to_thread(lambda: save(display.screenshot(), "attack-kill-loop-locked"))

    cleared_at = time.monotonic()
    assert (
        await admin.delete(f"/api/v1/stations/{agent.station_id}/tamper-lock")
    ).status_code == 204
    unlocked_in = await on_screen(display, CORNER_POINT, GREEN)  # paid time still running
    record_figures(
        "kill-loop",
        overlay_restart_seconds=[round(s, 3) for s in back_as_process],
        back_on_screen_seconds=[round(s, 3) for s in back_on_screen],
        tamper_events=[(k["kind"], k.get("count", 1), k.get("lock", False)) for k in kills],
        log_off_seconds_after_the_lock_with_a_3_s_grace=round(logoff_after_lock, 2),
        unlocked_on_screen_seconds_after_staff_clear=round(unlocked_in, 2),
        clear_to_screen=round(time.monotonic() - cleared_at, 2),
    )
    assert max(back_as_process) < 1.0  # a new overlay process within a second of each kill
    assert 2.5 <= logoff_after_lock <= 4.5


async def test_a_frozen_overlay_is_detected_killed_and_restarted(
    live_server: LiveServer, admin: httpx.AsyncClient, display: VirtualDisplay, agent: AgentProcess
) -> None:
    await in_session(agent, admin, display)
    [pid] = agent.overlay_pids()
    os.kill(pid, signal.SIGSTOP)  # frozen: still on screen, answering nothing
    detected = await poll(lambda: not psutil_alive(pid), seconds=10)
    restarted = await poll(lambda: _replaced(agent, pid), seconds=5)
    answering = await on_screen(display, CORNER_POINT, GREEN)
    [report] = await eventually(
        lambda: events(admin, "AGENT_TAMPER", agent.station_id), lambda e: len(e) >= 1
    )
    assert report["data"]["kind"] == "overlay_frozen"
    assert agent.logged("desktop_part_frozen")
    assert (await station(admin, agent.station_id))["tamper_locked_at"] is None  # one is no loop
    record_figures(
        "freeze",
        detection_seconds=round(detected, 2),
        new_process_seconds_after_kill=round(restarted, 3),
        back_on_screen_seconds_after_restart=round(answering, 2),
    )
    # Silence counts from the last answer, which came up to a ping before the SIGSTOP.
    assert FREEZE_SECONDS - PING_SECONDS <= detected < 3.5


def psutil_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _replaced(agent: AgentProcess, pid: int) -> bool:
    pids = agent.overlay_pids()
    return bool(pids) and pid not in pids
