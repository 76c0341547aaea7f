"""What agent heartbeats cost the server: CPU seconds of the server process per 1,000
heartbeats, and what that makes of 10,000 agents beating every 30 s (333 a second).

Starts each server as its own process on a fresh database, creates ``--agents`` PC stations,
connects that many agents (real WebSocket clients in this process, each saying hello), then
measures the server's CPU over ``--seconds`` with the agents connected and silent (its idle
cost: sweepers, pings), and again over ``--seconds`` while they send heartbeats at
``--rate`` a second in all (faster than 30 s each, so that few sockets make the load of
many). Cost per heartbeat = (CPU while beating - CPU idle) / heartbeats acknowledged.

* ``--floor``: the bare FastAPI + uvicorn server of ``bench/floor_server.py`` answering each
  frame on ``/echo/{n}`` with a short one: what a WebSocket round trip costs at all.
* ``--before REF``: the same run against the server code of git ref ``REF`` (``git archive``
  of its ``src/`` into a temporary folder), measured in the same run for comparison.

    python bench/heartbeat_cost.py --agents 500 --rate 400 --seconds 20 --floor --before main
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import websockets

# Run as `python bench/heartbeat_cost.py`: bench/ is on the path, its sibling scripts importable.
from agent_latency import drop_postgres, fresh_postgres  # type: ignore[import-not-found]
from fleet_scale import (  # type: ignore[import-not-found]
    create_stations,
    source_of,
    start_process,
    wait_healthy,
)
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from gameops.protocol import AgentHello, Heartbeat, encode

console = Console()
ADMIN_PASSWORD = "bench-admin-password"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BEATS_PER_SECOND_AT_10K = 10_000 / 30


@dataclass
class Cost:
    name: str
    idle_cpu_s: float = 0.0  # CPU seconds over the idle window
    beat_cpu_s: float = 0.0  # CPU seconds over the beating window
    beats: int = 0  # heartbeats answered in the beating window
    seconds: float = 0.0

    @property
    def ms_per_beat(self) -> float:
        return 1000 * (self.beat_cpu_s - self.idle_cpu_s) / max(self.beats, 1)

    @property
    def core_pct_at_10k(self) -> float:
        """% of one core that 10,000 agents beating every 30 s would cost, from this run."""
        return self.ms_per_beat * BEATS_PER_SECOND_AT_10K / 10


class Beaters:
    """``count`` sockets; each sends a heartbeat every ``count / rate`` seconds when beating."""

    def __init__(self, urls: list[tuple[str, str]], rate: float, hello: bool) -> None:
        self.urls = urls  # (url, token)
        self.interval = len(urls) / rate
        self.hello = hello
        self.connected = 0
        self.answered = 0
        self.beating = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._one(url, token)) for url, token in self.urls]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(self, url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        await asyncio.sleep(random.uniform(0, 5))  # not every handshake at once
        while True:
            try:
                async with websockets.connect(
                    url, additional_headers=headers, compression=None, open_timeout=60
                ) as ws:
                    if self.hello:
                        await ws.send(encode(AgentHello(agent_version="b", os="b", specs={})))
                    self.connected += 1
                    try:
                        await asyncio.gather(self._read(ws), self._beat(ws))
                    finally:
                        self.connected -= 1
            except (OSError, TimeoutError, websockets.WebSocketException):
                await asyncio.sleep(random.uniform(1, 3))

    async def _read(self, ws: websockets.ClientConnection) -> None:
        async for frame in ws:
            if self.beating.is_set() and ("heartbeat_ack" in frame or frame == "ack"):
                self.answered += 1

    async def _beat(self, ws: websockets.ClientConnection) -> None:
        await asyncio.sleep(random.uniform(0, self.interval))
        while True:
            await self.beating.wait()
            beat = Heartbeat(cpu=random.uniform(1, 30), ram=random.uniform(20, 60))
            await ws.send(encode(beat))
            await asyncio.sleep(self.interval)


async def measure(
    name: str, pid: int, beaters: Beaters, args: argparse.Namespace, progress: Progress
) -> Cost:
    task = progress.add_task(f"{name}: connecting", total=len(beaters.urls))
    beaters.start()
    started = time.monotonic()
    while beaters.connected < len(beaters.urls):
        if time.monotonic() - started > 300:
            raise SystemExit(f"{name}: only {beaters.connected} connected in 300 s")
        progress.update(task, completed=beaters.connected)
        await asyncio.sleep(0.5)
    progress.update(task, completed=beaters.connected)
    await asyncio.sleep(5)  # hellos and syncs settle
    process = psutil.Process(pid)
    cost = Cost(name, seconds=args.seconds)
    cost.idle_cpu_s = await cpu_over(process, args.seconds)
    beaters.beating.set()
    await asyncio.sleep(2)  # into the steady state
    beaters.answered = 0
    cost.beat_cpu_s = await cpu_over(process, args.seconds)
    cost.beats = beaters.answered
    await beaters.stop()
    return cost


async def cpu_over(process: psutil.Process, seconds: float) -> float:
    before = process.cpu_times()
    await asyncio.sleep(seconds)
    after = process.cpu_times()
    return (after.user - before.user) + (after.system - before.system)


async def run_floor(args: argparse.Namespace, work: Path, progress: Progress) -> Cost:
    port = args.port + 1
    command = [sys.executable, str(HERE / "floor_server.py"), "--port", str(port)]
    server = start_process(command, {}, work / "floor.log")
    try:
        await wait_healthy(f"http://127.0.0.1:{port}")
        urls = [(f"ws://127.0.0.1:{port}/echo/{n}", "") for n in range(args.agents)]
        return await measure("floor", server.pid, Beaters(urls, args.rate, False), args, progress)
    finally:
        server.terminate()
        server.wait(30)


async def run_gameops(
    name: str, src: Path, args: argparse.Namespace, work: Path, progress: Progress
) -> Cost:
    pg_name = None
    if args.postgres:
        pg_name, database_url = await fresh_postgres()
    else:
        database_url = f"sqlite+aiosqlite:///{work / (name + '.db')}"
    env = {
        "PYTHONPATH": str(src),
        "GAMEOPS_DATABASE_URL": database_url,
        "GAMEOPS_DATA_DIR": str(work / f"data-{name}"),
        "GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GAMEOPS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gameops.cli", "serve", "--port", str(args.port)]
    server = start_process(command, env, work / f"{name}.log")
    base = f"http://127.0.0.1:{args.port}"
    try:
        await wait_healthy(base)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            agents = await create_stations(client, args.agents, progress)
        urls = [(f"ws://127.0.0.1:{args.port}/ws/agent/{sid}", token) for sid, token in agents]
        return await measure(name, server.pid, Beaters(urls, args.rate, True), args, progress)
    finally:
        server.terminate()
        server.wait(30)
        if pg_name:
            await drop_postgres(pg_name)


def report(args: argparse.Namespace, costs: list[Cost]) -> None:
    backend = "PostgreSQL" if args.postgres else "SQLite"
    table = Table(title=f"{args.agents} agents, {args.rate:g} heartbeats/s, "
                        f"{args.seconds:g} s windows, {backend}")  # fmt: skip
    columns = ("server", "heartbeats", "CPU idle s", "CPU beating s", "CPU ms / heartbeat",
               "÷ floor", "% of a core at 10,000 agents / 30 s")  # fmt: skip
    for column in columns:
        table.add_column(column)
    floor = next((c for c in costs if c.name == "floor"), None)
    for cost in costs:
        ratio = f"{cost.ms_per_beat / floor.ms_per_beat:.1f}" if floor else "—"
        table.add_row(cost.name, str(cost.beats), f"{cost.idle_cpu_s:.2f}",
                      f"{cost.beat_cpu_s:.2f}", f"{cost.ms_per_beat:.3f}", ratio,
                      f"{cost.core_pct_at_10k:.1f}")  # fmt: skip
    console.print(table)
    console.print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, load average "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} at the end, "
        f"Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


async def bench(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="gameops-heartbeats-"))
    costs: list[Cost] = []
    with Progress(console=console) as progress:
        if args.floor:
            costs.append(await run_floor(args, work, progress))
        if args.before:
            before = source_of(args.before, work)
            costs.append(await run_gameops(f"before ({args.before})", before, args, work, progress))
        costs.append(await run_gameops("this code", REPO / "src", args, work, progress))
    report(args, costs)
    console.print(f"logs in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=400.0, help="heartbeats a second, in all")
    parser.add_argument("--seconds", type=float, default=20.0, help="each measuring window")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--floor", action="store_true", help="measure the bare floor too")
    parser.add_argument("--before", help="also measure the server code of this git ref")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
