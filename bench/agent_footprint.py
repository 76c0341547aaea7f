"""PC agent footprint: resident memory and CPU, without and with the overlay.

Starts a real server (``gameops serve``, its own process, fresh SQLite database), creates a
station and its agent token, then runs the real agent (``python -m gameops.agent``, its own
process, Simulated backend so the bench machine is not locked) and measures it with psutil:

* idle: connected, no session (the station shows the lock view);
* in session: a 60-minute session running (1 s ticks, state file every 5 s).

Memory is RSS, PSS (shared pages divided among the processes sharing them: the fair sum
for two processes) and USS (the pages only this process owns); CPU is the process's CPU time
over a wall-clock window, as % of one core. With the overlay, the user-session part's
process (Tk) is counted too. Without $DISPLAY an Xvfb is started for the overlay run.

Usage::

    python bench/agent_footprint.py              # 60 s windows
    python bench/agent_footprint.py --seconds 20
    python bench/agent_footprint.py --tls        # wss://, the agent pinned to the server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from server_process import ADMIN_PASSWORD, start_gameops

from gameops.server.tls import write_self_signed

console = Console()
TARGETS = {"rss_mb_no_overlay": 30.0, "cpu_pct_no_overlay": 0.5, "rss_mb_with_overlay": 45.0}


@dataclass
class Footprint:
    scenario: str
    rss_mb: float
    pss_mb: float
    uss_mb: float
    cpu_pct_one_core: float
    processes: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int, data_dir: Path, tls: Path | None) -> subprocess.Popen[bytes]:
    certificate = (
        {"GAMEOPS_TLS_CERTFILE": str(tls / "cert.pem"), "GAMEOPS_TLS_KEYFILE": str(tls / "key.pem")}
        if tls
        else {}
    )
    return start_gameops(port, data_dir, certificate)


async def provision(base_url: str, tls: Path | None) -> tuple[httpx.AsyncClient, str, str]:
    verify = ssl.create_default_context(cafile=tls / "cert.pem") if tls else True
    client = httpx.AsyncClient(base_url=base_url, timeout=30, verify=verify)
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/health")).status_code == 200:
                break
        await asyncio.sleep(0.1)
    login = await client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    body = {"name": "BENCH-PC", "type": "PC", "hourly_rate": 600}
    station_id = (await client.post("/api/v1/stations", json=body)).json()["id"]
    token = (await client.post(f"/api/v1/stations/{station_id}/agent-token")).json()["token"]
    return client, station_id, token


def write_config(
    directory: Path,
    base_url: str,
    station_id: str,
    token: str,
    overlay: str | None,
    tls: Path | None,
) -> Path:
    path = directory / f"agent-{overlay or 'plain'}.yaml"
    pinned = f", ca_file: '{tls / 'cert.pem'}'" if tls else ""
    path.write_text(
        f"station: {{id: '{station_id}', name: BENCH-PC}}\n"
        f"backend: {{url: '{base_url}', token: '{token}'{pinned}}}\n"
        f"features: {{show_overlay: {str(overlay is not None).lower()}}}\n"
        f"system: {{control: simulated, overlay: {overlay or 'auto'}}}\n"
        "log: {level: WARNING}\n"
    )
    return path


def agent_tree(agent: psutil.Process) -> list[psutil.Process]:
    return [agent, *agent.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


async def measure(scenario: str, agent: psutil.Process, seconds: float) -> Footprint:
    processes = agent_tree(agent)
    cpu_before, wall_before = cpu_seconds(processes), time.monotonic()
    await asyncio.sleep(seconds)
    cpu_used = cpu_seconds(processes) - cpu_before
    wall = time.monotonic() - wall_before
    memory = [process.memory_full_info() for process in processes]
    return Footprint(
        scenario=scenario,
        rss_mb=round(sum(m.rss for m in memory) / 2**20, 1),
        pss_mb=round(sum(getattr(m, "pss", m.rss) for m in memory) / 2**20, 1),
        uss_mb=round(sum(m.uss for m in memory) / 2**20, 1),
        cpu_pct_one_core=round(100 * cpu_used / wall, 3),
        processes=len(processes),
    )


def spawn_agent(config: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gameops.agent", "--config", str(config)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


async def run_scenarios(
    client: httpx.AsyncClient, station_id: str, config: Path, overlay: str | None, seconds: float
) -> list[Footprint]:
    agent = spawn_agent(config)
    label = f"overlay {overlay.replace('_', ' ')}" if overlay else "no overlay"
    try:
        await asyncio.sleep(5)  # connect, hello, sync; the overlay's Tk start-up
        process = psutil.Process(agent.pid)
        if overlay == "separate" and not process.children():
            raise SystemExit("the overlay process did not start (no display?)")
        if overlay == "in_process" and process.num_threads() < 2:
            raise SystemExit("the overlay thread did not start (no display?)")
        idle = await measure(f"idle, {label}", process, seconds)
        body = {"station_id": station_id, "duration_minutes": 60, "payment_method": "CASH"}
        session = (await client.post("/api/v1/sessions/start", json=body)).json()
        await asyncio.sleep(2)
        running = await measure(f"in session, {label}", process, seconds)
        await client.delete(f"/api/v1/sessions/{session['id']}")
        return [idle, running]
    finally:
        agent.terminate()
        agent.wait(10)


def start_xvfb() -> subprocess.Popen[bytes] | None:
    if os.environ.get("DISPLAY") or shutil.which("Xvfb") is None:
        return None
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as announced:
        os.environ["DISPLAY"] = ":" + announced.readline().strip()
    return xvfb


def report(results: list[Footprint], transport: str) -> None:
    table = Table(title="PC agent footprint")
    for column in ("scenario", "RSS MB", "PSS MB", "USS MB", "CPU % of one core", "processes"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for result in results:
        table.add_row(
            result.scenario,
            f"{result.rss_mb}",
            f"{result.pss_mb}",
            f"{result.uss_mb}",
            f"{result.cpu_pct_one_core}",
            str(result.processes),
        )
    console.print(table)
    machine = f"{platform.system()} {platform.release()}, {psutil.cpu_count()} CPUs, " + (
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, Python {platform.python_version()}"
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    console.print(f"machine: {machine}; date: {when}", soft_wrap=True)
    console.print(f"targets: {TARGETS}; transport: {transport}")
    results_json = [asdict(r) for r in results]
    print(json.dumps({"machine": machine, "transport": transport, "results": results_json}))


async def bench(seconds: float, use_tls: bool) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gameops-footprint-"))
    port = free_port()
    tls = data_dir / "tls" if use_tls else None
    if tls is not None:  # wss:// with the agent pinned to the server's own certificate
        write_self_signed(tls, ["127.0.0.1"])
    base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    server = start_server(port, data_dir, tls)
    xvfb = start_xvfb()
    try:
        client, station_id, token = await provision(base_url, tls)
        results = []
        for overlay in (None, "in_process", "separate"):
            config = write_config(data_dir, base_url, station_id, token, overlay, tls)
            results += await run_scenarios(client, station_id, config, overlay, seconds)
        await client.aclose()
        report(results, "wss:// pinned to the server's certificate" if tls else "ws://")
    finally:
        server.terminate()
        server.wait(15)
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of each window")
    parser.add_argument("--tls", action="store_true", help="wss://, agent pinned to the cert")
    args = parser.parse_args()
    asyncio.run(bench(args.seconds, args.tls))


if __name__ == "__main__":
    main()
