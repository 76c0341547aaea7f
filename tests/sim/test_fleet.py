"""The fleet simulator against the real server: provisioning and live counts."""

from __future__ import annotations

import asyncio
import io
import re
import signal

import httpx
from rich.console import Console

from gameops.sim import fleet
from tests.support.cli_process import kill_if_running, read_until, spawn_cli
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import until


def quiet() -> Console:
    return Console(file=io.StringIO(), width=100)


async def test_fleet_provisions_stations_and_connects_every_agent(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    counts = await fleet.run_async(
        3, live_server.base_url, ADMIN_USERNAME, ADMIN_PASSWORD,
        duration=3.0, ramp_seconds=0.3, console=quiet(),
    )  # fmt: skip
    assert counts.agents == 3
    assert counts.connected == 3
    assert counts.errors == 0

    # A second run reuses SIM-0001..0003 and adds SIM-0004.
    await fleet.run_async(
        4, live_server.base_url, ADMIN_USERNAME, ADMIN_PASSWORD,
        duration=0.5, ramp_seconds=0.1, console=quiet(),
    )  # fmt: skip
    listed = (await admin.get("/api/v1/stations", params={"per_page": 100})).json()
    names = sorted(item["name"] for item in listed["items"])
    assert names == ["SIM-0001", "SIM-0002", "SIM-0003", "SIM-0004"]


async def test_fleet_counts_agents_in_session(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    stations = await fleet.provision(admin, 2)
    agents = [fleet.simulated_agent(live_server.base_url, station) for station in stations]
    console = quiet()
    running = asyncio.create_task(
        fleet.run_fleet(
            agents, server=live_server.base_url, duration=4, ramp_seconds=0.1, console=console
        )
    )
    await until(lambda: all(agent.link.connected for agent in agents))
    await start_session(admin, stations[0].id, minutes=30)
    counts = await running
    assert (counts.connected, counts.in_session) == (2, 1)
    assert "in session" in console.file.getvalue()  # type: ignore[attr-defined]


def test_fleet_reports_an_unreachable_server() -> None:
    console = quiet()
    assert fleet.run(2, "http://127.0.0.1:9", "admin", "x", console=console) == 1
    assert "cannot reach" in console.file.getvalue()  # type: ignore[attr-defined]


async def test_ctrl_c_stops_a_reconnecting_fleet_within_a_second(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    process = await spawn_cli(
        "sim", "agents", "--count", "20", "--server", live_server.base_url,
        "--username", ADMIN_USERNAME, env={"GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )  # fmt: skip
    try:
        # Not a terminal here: the status line is printed at each change.
        await read_until(process, "20 connected", 30)
        stations = (await admin.get("/api/v1/stations")).json()["items"]
        await start_session(admin, stations[0]["id"], minutes=30)  # one agent in session
        await live_server.stop()  # the case that was slow: every agent reconnecting
        await read_until(process, "20 reconnecting", 10)
        loop = asyncio.get_running_loop()
        signalled_at = loop.time()
        process.send_signal(signal.SIGINT)
        last = await read_until(process, "stopped in", 5)
        stopped = loop.time() - signalled_at
        assert await asyncio.wait_for(process.wait(), 5) == 0
        exited = loop.time() - signalled_at
    finally:
        await kill_if_running(process)
    assert re.search(r"20 agents · 0 connected .* stopped in 0\.\d\d s$", last.strip()), last
    # Every agent stopped and the last line printed within a second of Ctrl+C; the exit
    # itself (the interpreter tearing down) follows, slower on a loaded machine.
    assert stopped < 1.0, f"{stopped:.2f} s from SIGINT to every agent stopped"
    assert exited < 3.0, f"{exited:.2f} s from SIGINT to the exit"
