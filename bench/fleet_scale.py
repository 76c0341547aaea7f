"""Thousands of agents on one server process, against a bare floor measured in the same run.

The load generator runs in ``--procs`` processes (each its own event loop) so that it is not
the bottleneck. Each simulated agent speaks the real protocol: hello, heartbeats every 30 s,
acks, and on a refused handshake it waits as a real agent does (the server's "retry in N s"
on a 1013 close, else 1-5 s of jitter).

* ``--floor``: a bare FastAPI + uvicorn server (``bench/floor_server.py``) holding the same
  number of WebSockets, deflate off; POST /push/{n} sends one frame to socket n. Measured:
  time until all are connected, memory per connection, POST returned -> frame received.
* GameOps (``gameops serve``, its own process, a fresh SQLite or PostgreSQL database):
  time until every agent is online (cold start), memory per connection, the server's CPU
  while only heartbeats flow, start -> agent for ``--latency-sample`` sales made one at a
  time (as the floor's pushes are), the expiry lag when ``--sessions`` sessions all end
  within the same minute (sold ``--concurrency`` at a time, each as long as it takes to end
  in that minute), and the time until every agent is online again after the server
  restarts (SIGTERM, start again: a reconnect storm).

Figures are printed as ratios to the floor where the issue asks for them::

    python bench/fleet_scale.py --agents 10000 --procs 4 --floor [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import math
import multiprocessing
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets

# Run as `python bench/fleet_scale.py`: bench/ is on the path, its sibling scripts importable.
from agent_latency import drop_postgres, fresh_postgres  # type: ignore[import-not-found]
from expiry_stages import read_moments  # type: ignore[import-not-found]
from expiry_stages import report as stages_report  # type: ignore[import-not-found]
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from gameops.protocol import (
    ACKED_COMMANDS,
    SERVER_MESSAGES,
    Ack,
    AgentHello,
    Heartbeat,
    Reconnect,
    SessionEnd,
    SessionExpired,
    SessionStart,
    StationInfo,
    SyncRequest,
    decode,
    encode,
)
from gameops.protocol.close_codes import CloseCode, retry_after
from gameops.server.stations.csv_import import PHASES, ImportRefused, import_rows

console = Console()
ADMIN_PASSWORD = "bench-admin-password"
HERE = Path(__file__).resolve().parent


# --- the load generator (child processes) ------------------------------------------------


@dataclass
class Fleet:
    """One child's share of the agents and what they saw."""

    url: str  # ws base; "{id}" is replaced by the agent's station id (or floor index)
    agents: list[tuple[str, str]]  # (id, token)
    sync: bool = False  # after hello, a sync_request, as a real agent sends
    # The session each agent runs, as its heartbeats say (a heartbeat that disagrees with
    # the server costs a correction transaction, as it would for a real agent).
    running: dict[str, uuid.UUID] = field(default_factory=dict)
    connected: set[str] = field(default_factory=set)
    refused: int = 0
    started: dict[str, float] = field(default_factory=dict)  # session id -> monotonic
    expired: dict[str, float] = field(default_factory=dict)  # session id -> wall clock
    pushed: dict[str, float] = field(default_factory=dict)  # floor push id -> monotonic
    sending: set[asyncio.Future[None]] = field(default_factory=set)
    # When each agent not greeted now began trying (its first attempt, or the loss of its
    # connection), and how long each greeted one had tried: no agent may wait over 60 s.
    trying_since: dict[str, float] = field(default_factory=dict)
    waited: list[float] = field(default_factory=list)


async def _agent(fleet: Fleet, ident: str, token: str, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    while not stop.is_set():
        fleet.trying_since.setdefault(ident, time.monotonic())
        told_to_wait: float | None = (
            None  # a server going away says when to come back (``reconnect``)
        )
        try:
            async with websockets.connect(
                fleet.url.replace("{id}", ident),
                additional_headers=headers,
                compression=None,
                max_queue=16,
                open_timeout=60,
                ping_interval=None,  # as the real agent: its heartbeats are the keepalive
            ) as ws:
                if token:
                    await ws.send(encode(AgentHello(agent_version="bench", os="bench", specs={})))
                    if fleet.sync:
                        await ws.send(encode(SyncRequest(last_known_session_id=None)))
                else:
                    fleet.connected.add(ident)  # the floor says no hello
                beats = asyncio.create_task(_heartbeats(fleet, ident, ws)) if token else None
                try:
                    async for frame in ws:
                        told = _on_frame(fleet, ident, frame, ws)
                        told_to_wait = told if told is not None else told_to_wait
                finally:
                    fleet.connected.discard(ident)
                    if beats is not None:
                        beats.cancel()
                code = ws.close_code
                reason = ws.close_reason
        except websockets.ConnectionClosed as closed:
            fleet.connected.discard(ident)
            code = closed.rcvd.code if closed.rcvd else None
            reason = closed.rcvd.reason if closed.rcvd else None
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            code, reason = None, None
        busy = code == CloseCode.TRY_AGAIN_LATER  # "come back in N s" (admission control)
        fleet.refused += busy
        asked = retry_after(reason) if busy else None
        if told_to_wait is not None:  # as the agent: the server's delay plus its own spread
            asked = told_to_wait + random.uniform(0, 5)
        restart = code == CloseCode.SERVICE_RESTART
        fleet.trying_since.setdefault(ident, time.monotonic())  # lost it: trying again from now
        await asyncio.sleep(asked if asked is not None else random.uniform(0 if restart else 1, 5))


def _on_frame(fleet: Fleet, ident: str, frame: str | bytes, ws: Any) -> float | None:
    """Records what the bench measures; the delay a ``reconnect`` asks for, if it is one."""
    received = time.monotonic()
    if isinstance(frame, str) and frame.startswith("push:"):
        fleet.pushed[frame[5:]] = received
        return None
    message_id, payload = decode(frame, SERVER_MESSAGES)
    if isinstance(payload, StationInfo):  # the answer to its hello: in, and greeted
        fleet.connected.add(ident)
        if (since := fleet.trying_since.pop(ident, None)) is not None:
            fleet.waited.append(received - since)
    elif isinstance(payload, Reconnect):
        return payload.after_seconds
    if isinstance(payload, SessionStart):
        fleet.started[str(payload.id)] = received
        fleet.running[ident] = payload.id
    elif isinstance(payload, SessionExpired):
        fleet.expired[str(payload.id)] = time.time()
        fleet.running.pop(ident, None)
    elif isinstance(payload, SessionEnd):  # stopped by the bench (start -> agent, sale rate)
        fleet.running.pop(ident, None)
    if payload.TYPE in ACKED_COMMANDS:
        ack = asyncio.ensure_future(ws.send(encode(Ack(id=message_id))))
        fleet.sending.add(ack)  # a reference until it is sent
        ack.add_done_callback(fleet.sending.discard)
    return None


async def _heartbeats(fleet: Fleet, ident: str, ws: Any) -> None:
    await asyncio.sleep(random.uniform(0, 30))
    while True:
        running = fleet.running.get(ident)
        await ws.send(encode(Heartbeat(cpu=random.uniform(1, 30), ram=40,
                                       active_session_id=running)))  # fmt: skip
        await asyncio.sleep(30)


def child_main(
    pipe: Connection, url: str, agents: list[tuple[str, str]], ramp: float, sync: bool
) -> None:
    asyncio.run(_child(pipe, Fleet(url, agents, sync), ramp))


async def _child(pipe: Connection, fleet: Fleet, ramp: float) -> None:
    stop = asyncio.Event()

    async def later(ident: str, token: str) -> None:
        await asyncio.sleep(random.uniform(0, ramp))
        await _agent(fleet, ident, token, stop)

    tasks = [asyncio.create_task(later(i, t)) for i, t in fleet.agents]
    tasks.append(asyncio.create_task(_keep_heap_frozen()))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        # Sent from a thread: pickling thousands of entries and a pipe that fills until the
        # parent reads would stall this loop, and the frames waiting meanwhile would be
        # timed late.
        if command == "status":
            answer: Any = (len(fleet.connected), fleet.refused)
        elif command == "waits":  # the longest an agent waited since last asked, and how many
            waited, fleet.waited = fleet.waited, []
            answer = (max(waited, default=0.0), len(waited))
        elif command == "counts":
            answer = (len(fleet.started), len(fleet.expired), len(fleet.pushed))
        elif command == "results":
            answer = (dict(fleet.started), dict(fleet.expired), dict(fleet.pushed))
        elif command == "stop":
            stop.set()
            for task in tasks:
                task.cancel()
            pipe.send("stopped")
            return
        await loop.run_in_executor(None, pipe.send, answer)


async def _keep_heap_frozen() -> None:
    """The load generator must not stall: a full collection over its 2,500 connections
    would hold frames for a few hundred ms, timed late as if the server had sent them late.
    Frozen every second, a collection walks only the last second's objects (the reference
    cycles of a run's closed connections are never freed: a bench's leak, not the server's)."""
    while True:
        gc.freeze()
        await asyncio.sleep(1)


class LoadGenerator:
    def __init__(
        self, procs: int, url: str, agents: list[tuple[str, str]], ramp: float, sync: bool = False
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for share in range(procs):
            mine, theirs = context.Pipe()
            chunk = agents[share::procs]
            process = context.Process(target=child_main, args=(theirs, url, chunk, ramp, sync))
            process.start()
            self.pipes.append(mine)
            self.procs.append(process)

    def ask(self, command: str) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def connected(self) -> int:
        return sum(count for count, _ in self.ask("status"))

    def longest_wait(self) -> float:
        """The longest any agent waited for its hello's answer since last asked."""
        return max(longest for longest, _ in self.ask("waits"))

    def refused(self) -> int:
        return sum(refused for _, refused in self.ask("status"))

    def counts(self) -> tuple[int, int, int]:
        """How many sessions have started and expired, and pushes arrived, in all children."""
        started, expired, pushed = zip(*self.ask("counts"), strict=True)
        return sum(started), sum(expired), sum(pushed)

    def results(self) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        started: dict[str, float] = {}
        expired: dict[str, float] = {}
        pushed: dict[str, float] = {}
        for s, e, p in self.ask("results"):
            started.update(s)
            expired.update(e)
            pushed.update(p)
        return started, expired, pushed

    def stop(self) -> None:
        self.ask("stop")
        for process in self.procs:
            process.join(10)


# --- the servers ----------------------------------------------------------------------------


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"))  # fmt: skip


async def wait_healthy(base_url: str, path: str = "/health") -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(600):
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{base_url} did not become healthy in 60 s")


def source_of(ref: str, work: Path) -> Path:
    """``src/`` of git ref ``ref``, unpacked into ``work``."""
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", "--format=tar", ref, "src"],
        check=True,
        capture_output=True,
    ).stdout
    target = work / f"src-{ref.replace('/', '_')}"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


MILESTONES = (0.5, 0.9, 0.99)


async def wait_all(
    progress: Progress, label: str, count: int, probe: Any, limit: float
) -> float | None:
    """Seconds until ``probe()`` reaches ``count``; None if not within ``limit``. Also
    prints when half, 90 % and 99 % were reached (is it the bulk or a tail?)."""
    task = progress.add_task(label, total=count)
    started = time.monotonic()
    reached: list[str] = []
    try:
        while time.monotonic() - started < limit:
            done = await probe()
            progress.update(task, completed=done)
            while len(reached) < len(MILESTONES) and done >= MILESTONES[len(reached)] * count:
                share = MILESTONES[len(reached)]
                reached.append(f"{share:.0%} in {time.monotonic() - started:.1f} s")
            if done >= count:
                return time.monotonic() - started
            await asyncio.sleep(0.5)
        return None
    finally:
        console.print(f"{label}: {', '.join(reached) or 'not half'}")


def percentile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


# --- the runs -------------------------------------------------------------------------------


@dataclass
class Figures:
    connect_s: float | None = None
    kb_per_connection: float = 0.0
    idle_rss_mib: float = 0.0
    push_p99_ms: float = 0.0  # the floor: from the request; GameOps: from the answer
    push_sent_p99_ms: float = 0.0  # GameOps: from the request
    heartbeat_core_pct: float = 0.0
    expiry_p99_ms: float = 0.0
    expiry_n: int = 0
    reconnect_s: float | None = None
    exit_s: float = 0.0  # SIGTERM -> the server process has exited
    refused: int = 0
    # The server's own CPU time (user + system) while the agents connected: unlike the wall
    # clock, hardly moved by whatever else the machine runs meanwhile.
    connect_cpu_s: float | None = None
    reconnect_cpu_s: float | None = None
    # The longest any one agent tried, from its first attempt (or the loss of its
    # connection) to its hello answered.
    connect_wait_s: float | None = None
    reconnect_wait_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def run_floor(args: argparse.Namespace, work: Path, progress: Progress) -> Figures:
    port = args.port + 1
    server = start_process(
        [sys.executable, str(HERE / "floor_server.py"), "--port", str(port)], {}, work / "floor.log"
    )
    figures = Figures()
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", "/health")
        idle = rss(server.pid)
        agents = [(str(n), "") for n in range(args.agents)]
        load = LoadGenerator(args.procs, f"ws://127.0.0.1:{port}/ws/{{id}}", agents, args.ramp)

        async def connected() -> int:
            return load.connected()

        before = cpu_seconds(server.pid)
        figures.connect_s = await wait_all(
            progress, "floor: connecting", args.agents, connected, 180
        )
        figures.connect_cpu_s = cpu_seconds(server.pid) - before
        figures.idle_rss_mib = idle / 2**20
        figures.kb_per_connection = (rss(server.pid) - idle) / args.agents / 1024
        returned: dict[str, float] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for n in random.sample(range(args.agents), min(args.latency_sample, args.agents)):
                push = uuid.uuid4().hex
                returned[push] = time.monotonic()  # sent: the frame may beat the answer
                await client.post(f"/push/{n}", params={"id": push})
        await asyncio.sleep(1)
        _, _, pushed = load.results()
        lat = [(pushed[p] - t) * 1000 for p, t in returned.items() if p in pushed]
        figures.push_p99_ms = percentile(lat, 99)
        figures.extra["push_n"] = len(lat)
        console.print(f"floor: connected in {figures.connect_s} s, "
                      f"{figures.kb_per_connection:.0f} KB per connection, "
                      f"POST -> socket p99 {figures.push_p99_ms:.1f} ms")  # fmt: skip
        load.stop()
    finally:
        server.terminate()
        server.wait(30)
    return figures


async def run_gameops(args: argparse.Namespace, work: Path, progress: Progress) -> Figures:
    pg_name = None
    if args.postgres:
        pg_name, database_url = await fresh_postgres()
    else:
        database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    src = source_of(args.server_ref, work) if args.server_ref else HERE.parent / "src"
    env = {
        "PYTHONPATH": str(src),
        "GAMEOPS_DATABASE_URL": database_url,
        "GAMEOPS_DATA_DIR": str(work / "data"),
        "GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GAMEOPS_LOG_LEVEL": "WARNING",
        "GAMEOPS_REQUIRE_OPEN_SHIFT": "false",
        "GAMEOPS_ACCESS_TOKEN_MINUTES": "600",  # a 10,000-agent run outlasts the default
    }
    if args.handshakes_at_once:
        env["GAMEOPS_AGENT_HANDSHAKES_AT_ONCE"] = str(args.handshakes_at_once)
    gameops = [sys.executable, "-m", "gameops.cli", "serve", "--port", str(args.port)]
    base = f"http://127.0.0.1:{args.port}"
    server = start_process(gameops, env, work / "server.log")
    figures = Figures()
    load = None
    try:
        await wait_healthy(base)
        # No keep-alive: under the storm the server's loop can stall past its keep-alive
        # timeout and close a connection just as a request goes out on it.
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=no_reuse) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            provisioning = time.monotonic()
            agents = await create_stations(client, args.agents, progress)
            console.print(f"stations: {len(agents)} with tokens in "
                          f"{time.monotonic() - provisioning:.1f} s")  # fmt: skip
            idle = rss(server.pid)
            storm = start_profile(args, server.pid, work / "cold-start.py-spy.txt")
            load = LoadGenerator(args.procs, f"ws://127.0.0.1:{args.port}/ws/agent/{{id}}",
                                 agents, args.ramp, args.sync)  # fmt: skip

            seen = [0]

            async def online() -> int:
                """Stations online, as the dashboards see them; the last count if the
                server cannot answer now (its loop stalled under the storm, or a 5xx)."""
                try:
                    page = await client.get(
                        "/api/v1/stations", params={"per_page": 1, "status": "ONLINE"}
                    )
                except httpx.TransportError:
                    return seen[0]
                if page.status_code == 200:
                    seen[0] = int(page.json()["meta"]["total"])
                return seen[0]

            before = cpu_seconds(server.pid)
            figures.connect_s = await wait_all(
                progress, "gameops: cold start", args.agents, online, 180
            )
            figures.connect_cpu_s = cpu_seconds(server.pid) - before
            figures.connect_wait_s = load.longest_wait()
            figures.extra["connected_cold"] = load.connected()
            console.print(f"cold start: all online in {figures.connect_s} s (None: not in 180 s); "
                          f"{load.refused()} handshakes told to come back; "
                          f"{figures.extra['connected_cold']} greeted")  # fmt: skip
            stop_profile(storm, work / "cold-start.py-spy.txt", figures, "the cold-start storm")
            figures.idle_rss_mib = idle / 2**20
            # Per agent connected now (all of them, unless the cold start ran out of time).
            connected = max(load.connected(), 1)
            figures.kb_per_connection = (rss(server.pid) - idle) / connected / 1024
            window = int(args.heartbeat_window)
            beats = start_profile(args, server.pid, work / "heartbeats.py-spy.txt", window)
            figures.heartbeat_core_pct = await cpu_share(server.pid, args.heartbeat_window)
            console.print(f"heartbeats: {figures.heartbeat_core_pct:.1f} % of a core; "
                          f"{figures.kb_per_connection:.0f} KB per connection")  # fmt: skip
            if beats is not None:
                beats.wait(60)
            stop_profile(beats, work / "heartbeats.py-spy.txt", figures, "the heartbeat window")
            sample = random.sample(agents, min(args.latency_sample, len(agents)))
            if sample:
                figures.push_p99_ms, figures.push_sent_p99_ms = await start_latency(
                    client, load, sample, progress
                )
            if args.sessions:
                busy = {station_id for station_id, _ in sample}
                burst = await sell_burst(client, agents, args, progress, busy)
                figures.extra["burst_sale_rate"] = burst.rate
                figures.extra["burst_failed"] = burst.failed
                profile = start_profile(args, server.pid, work / "expiry-burst.py-spy.txt")
                before = tcp_losses()
                figures.expiry_p99_ms, figures.expiry_n = await expiry_lag(
                    load, burst, progress, database_url, work
                )
                lost = {name: count - before[name] for name, count in tcp_losses().items()}
                console.print(f"TCP on this machine over the expiry burst: {lost}")
                stop_profile(profile, work / "expiry-burst.py-spy.txt", figures, "the expiry burst")
            console.print(f"start -> agent p99 {figures.push_p99_ms:.1f} ms; expiry lag p99 "
                          f"{figures.expiry_p99_ms:.0f} ms ({figures.expiry_n})")  # fmt: skip
            # The reconnect storm: SIGTERM (agents told 1012), start again on the same data.
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            figures.exit_s = time.monotonic() - signalled
            server = start_process(gameops, env, work / "server.log")
            await wait_healthy(base)

            # The rows stay online over a restart (the agents were told to come back): count
            # the agents whose hello the new process answered.
            async def greeted() -> int:
                return load.connected()

            again = start_profile(args, server.pid, work / "restart.py-spy.txt")
            before = cpu_seconds(server.pid)
            figures.reconnect_s = await wait_all(
                progress, "gameops: after a restart", args.agents, greeted, 180
            )
            figures.reconnect_cpu_s = cpu_seconds(server.pid) - before
            figures.reconnect_wait_s = load.longest_wait()
            figures.extra["connected_restart"] = load.connected()
            stop_profile(again, work / "restart.py-spy.txt", figures, "the restart storm")
            console.print(f"restart: all back in {figures.reconnect_s} s (None: not in 180 s); "
                          f"{await online()} stations online on the dashboards")  # fmt: skip
            figures.refused = load.refused()
    finally:
        if load is not None:
            load.stop()
        server.terminate()
        server.wait(30)
        if pg_name:
            await drop_postgres(pg_name)
    return figures


async def create_stations(
    client: httpx.AsyncClient, count: int, progress: Progress
) -> list[tuple[str, str]]:
    """``count`` PC stations with agent tokens: through ``POST /stations/import`` (what
    ``gameops stations import`` uses), or one request each from a server without it."""
    rows = [{"name": f"BENCH-{n:05d}", "type": "PC", "hourly_rate": 600} for n in range(count)]
    tasks = {phase: progress.add_task(f"stations: {phase}", total=count) for phase in PHASES}
    try:
        imported = await import_rows(
            client,
            rows,
            agent_tokens=True,
            progress=lambda phase, done: progress.update(tasks[phase], completed=done),
        )
    except ImportRefused as refused:
        if not any("405" in p or "404" in p for p in refused.problems):
            raise SystemExit(f"station import refused: {refused.problems[:5]}") from refused
        return await _create_one_by_one(client, rows, progress, tasks["importing"])
    return [(sid, token) for sid, _, _, token in imported.stations if token]


async def _create_one_by_one(
    client: httpx.AsyncClient, rows: list[dict[str, Any]], progress: Progress, task: Any
) -> list[tuple[str, str]]:
    agents: list[tuple[str, str]] = []
    limit = asyncio.Semaphore(32)

    async def one(body: dict[str, Any]) -> None:
        async with limit:
            station = (await client.post("/api/v1/stations", json=body)).json()
            token = (await client.post(f"/api/v1/stations/{station['id']}/agent-token")).json()
            agents.append((station["id"], token["token"]))
            progress.advance(task)

    await asyncio.gather(*(one(row) for row in rows))
    return agents


def start_profile(
    args: argparse.Namespace, pid: int, out: Path, seconds: int | None = None
) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server (``--py-spy PATH``) for ``seconds``, or until
    ``stop_profile``: only samples holding the GIL, so that waiting in the event loop is
    not counted. Each sample pauses the server: read without pausing (``--nonblocking``),
    a busy server's stacks came out torn, a third of them in a stale list comprehension
    (websockets' ``Headers.__delitem__``) that takes microseconds."""
    if not args.py_spy:
        return None
    command = [args.py_spy, "record", "-p", str(pid), "--format", "raw", "--gil",
               "-o", str(out)]  # fmt: skip
    if seconds is not None:
        command += ["-d", str(seconds)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profile(
    profile: subprocess.Popen[bytes] | None, out: Path, figures: Figures, what: str
) -> None:
    """Ends a py-spy recording (it writes its file on SIGINT) and keeps its top functions."""
    if profile is None:
        return
    if profile.poll() is None:
        profile.send_signal(signal.SIGINT)
    try:
        profile.wait(60)
    except subprocess.TimeoutExpired:
        profile.kill()
    if out.exists() and out.stat().st_size:
        figures.extra.setdefault("profiles", {})[what] = top_functions(out)


def top_functions(raw: Path, count: int = 15) -> list[tuple[str, float, float]]:
    """(function, % of samples in it, % of samples under it) from py-spy's collapsed stacks,
    the most own time first; line numbers dropped so a function is one row."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue  # a frame's text broken over lines (a string argument in its name)
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        total += int(samples)
        own[frames[-1]] = own.get(frames[-1], 0) + int(samples)
        for frame in set(frames):
            under[frame] = under.get(frame, 0) + int(samples)
    ranked = sorted(own, key=own.__getitem__, reverse=True)[:count]
    return [(f, 100 * own[f] / total, 100 * under[f] / total) for f in ranked]


# Counters of /proc/net/{snmp,netstat} that say a segment was lost and sent again (on
# loopback: a queue that overflowed); a frame waiting for its retransmission is 0.2-3 s late.
TCP_LOSSES = ("RetransSegs", "TCPTimeouts", "TCPLossProbes", "TCPSynRetrans", "ListenDrops")


def tcp_losses() -> dict[str, int]:
    counters: dict[str, int] = {}
    for table in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = Path(table).read_text().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            counters.update(zip(names.split()[1:], map(int, values.split()[1:]), strict=False))
    return {name: counters.get(name, 0) for name in TCP_LOSSES}


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def cpu_share(pid: int, seconds: float) -> float:
    """The server's CPU over ``seconds`` while only heartbeats flow, in % of one core."""
    process = psutil.Process(pid)
    before = process.cpu_times()
    await asyncio.sleep(seconds)
    after = process.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / seconds


async def start_latency(
    client: httpx.AsyncClient,
    load: LoadGenerator,
    sample: list[tuple[str, str]],
    progress: Progress,
) -> tuple[float, float]:
    """start -> agent p99 (ms) from the answer and from the request, one sale at a time as
    the floor's pushes are; the sessions are stopped again so the burst can use their PCs."""
    task = progress.add_task("start -> agent, one sale at a time", total=len(sample))
    sent: dict[str, float] = {}
    returned: dict[str, float] = {}
    awaited = load.counts()[0] + len(sample)
    for station_id, _ in sample:
        sent_at = time.monotonic()
        response = await client.post(
            "/api/v1/sessions/start", json={"station_id": station_id, "duration_minutes": 60}
        )
        session_id = response.json()["id"]
        returned[session_id], sent[session_id] = time.monotonic(), sent_at
        progress.advance(task)
    started = await received_all(load, awaited)
    for session_id in sent:
        assert (await client.delete(f"/api/v1/sessions/{session_id}")).status_code == 200
    answered = [(started[s] - t) * 1000 for s, t in returned.items() if s in started]
    requested = [(started[s] - t) * 1000 for s, t in sent.items() if s in started]
    console.print(f"start -> agent: {len(answered)} of {len(sent)} received; p99 from the "
                  f"request {percentile(requested, 99):.1f} ms")  # fmt: skip
    return percentile(answered, 99), percentile(requested, 99)


async def received_all(load: LoadGenerator, awaited: int) -> dict[str, float]:
    """When each session reached its agent, once ``awaited`` have (or after 30 s). Polls
    the counts only: the children pause to hand over their whole results."""
    for _ in range(60):
        if load.counts()[0] >= awaited:
            break
        await asyncio.sleep(0.5)
    started, _, _ = load.results()
    return started


EARLY = 1.0  # s: see sell_burst
# The burst's minute is planned from the sale rate measured first, this much slower (the
# database grows as it sells, and the machine is shared), plus LEAD seconds.
RATE_MARGIN = 1.3
LEAD = 10.0


@dataclass
class Burst:
    """The burst as sold: each session's end as the sale answered it, the minute they
    should end in (from ``window``), and what the selling measured."""

    ends: dict[str, datetime]
    window: float  # epoch seconds: the minute [window, window + 60)
    planned_rate: float  # sales a second the minute was planned for
    rate: float  # sales a second the burst's sales ran at
    last_sold: float  # epoch seconds: the last sale's answer
    failed: int = 0  # sales refused or failed

    def inside(self, ends: list[float]) -> int:
        """How many of ``ends`` fall within one minute: the planned one, or any other 60 s
        that holds more (the server's clock reads a sale's start a little after ours)."""
        ordered = sorted(ends)
        most, first = sum(self.window <= end < self.window + 60 for end in ends), 0
        for last, end in enumerate(ordered):
            while end - ordered[first] >= 60:
                first += 1
            most = max(most, last - first + 1)
        return most


async def _sell_at_once(
    client: httpx.AsyncClient,
    station_ids: list[str],
    concurrency: int,
    minutes: Any,
    on_sold: Any,
) -> list[str]:
    """Sell at ``station_ids``, ``concurrency`` at a time, each for ``minutes()``. A sale
    refused or failed does not end the run: what went wrong with each is returned."""
    limit = asyncio.Semaphore(concurrency)
    failed: list[str] = []

    async def one(station_id: str) -> None:
        async with limit:
            try:
                response = await client.post(
                    "/api/v1/sessions/start",
                    json={"station_id": station_id, "duration_minutes": minutes()},
                )
            except httpx.HTTPError as err:
                failed.append(repr(err)[:200])
                return
            if response.status_code != 201:
                failed.append(f"{response.status_code} {response.text[:200]}")
                return
            on_sold(response.json())

    await asyncio.gather(*(one(station_id) for station_id in station_ids))
    if failed:
        console.print(f"[red]{len(failed)} of {len(station_ids)} sales failed[/red]; the first: "
                      + " | ".join(failed[:3]))  # fmt: skip
    return failed


async def measure_sale_rate(
    client: httpx.AsyncClient, station_ids: list[str], concurrency: int, progress: Progress
) -> float:
    """Sales a second, ``concurrency`` at a time, over a first share of the burst's stations;
    those sessions are stopped again, so the burst sells there too."""
    task = progress.add_task("measuring the sale rate", total=len(station_ids))
    sold: list[str] = []

    def on_sold(body: dict[str, Any]) -> None:
        sold.append(body["id"])
        progress.advance(task)

    began = time.monotonic()
    await _sell_at_once(client, station_ids, concurrency, lambda: 60, on_sold)
    rate = max(len(sold), 1) / (time.monotonic() - began)
    limit = asyncio.Semaphore(concurrency)

    async def stop(session_id: str) -> None:
        async with limit:
            response = await client.delete(f"/api/v1/sessions/{session_id}")
            if response.status_code != 200:
                console.print(f"stopping a sale-rate session: {response.status_code} "
                              f"{response.text[:200]}")  # fmt: skip

    await asyncio.gather(*(stop(session_id) for session_id in sold))
    return rate


async def sell_burst(
    client: httpx.AsyncClient,
    agents: list[tuple[str, str]],
    args: argparse.Namespace,
    progress: Progress,
    busy_before: set[str],
) -> Burst:
    """``--sessions`` sales, ``--concurrency`` at a time, each as long as it takes to end in
    one common minute. Every sale must have committed before that minute begins (else the
    burst's expiries queue behind sales): the minute is planned from the sale rate measured
    over a first share of the stations (``--sale-rate``: the rate to plan for instead),
    ``RATE_MARGIN`` slower, and the bench says whether the sales were done in time."""
    count = min(args.sessions, len(agents))
    # Stations the start -> agent sample sold at last, only if the burst needs them all.
    fresh = [station_id for station_id, _ in agents if station_id not in busy_before]
    used = [station_id for station_id, _ in agents if station_id in busy_before]
    random.shuffle(fresh)
    stations = (fresh + used)[:count]
    rate = args.sale_rate
    if rate is None:
        probe = stations[: min(count, max(2 * args.concurrency, count // 20))]
        rate = await measure_sale_rate(client, probe, args.concurrency, progress)
        console.print(f"sale rate: {rate:.1f} a second over {len(probe)} sales, "
                      f"{args.concurrency} at a time")  # fmt: skip
    # The burst's minute starts here: any second will do (a sale made t seconds before it,
    # for ceil(t / 60) minutes, ends within it), not the next whole minute on the clock.
    minute = time.time() + RATE_MARGIN * count / rate + LEAD
    window = minute - EARLY
    task = progress.add_task("selling the burst", total=count)
    ends: dict[str, datetime] = {}
    answered: list[float] = []

    def minutes() -> int:
        # A second early: the server's clock starts a little after ours, and a sale
        # just after a whole minute before ``minute`` would otherwise end past its end.
        return max(1, math.ceil((window - time.time()) / 60))

    def on_sold(body: dict[str, Any]) -> None:
        ends[body["id"]] = datetime.fromisoformat(body["scheduled_end_at"])
        answered.append(time.time())
        progress.advance(task)

    began = time.time()
    failed = await _sell_at_once(client, stations, args.concurrency, minutes, on_sold)
    took = time.time() - began
    if not ends:
        raise SystemExit("no burst sale went through")
    burst = Burst(ends, window, rate, len(ends) / took, max(answered), len(failed))
    inside = burst.inside([end.timestamp() for end in ends.values()])
    before = window - burst.last_sold
    clean = (
        f"the last sale answered {before:.0f} s before the minute began"
        if before > 0
        else f"NOT CLEAN: the last sale answered {-before:.0f} s into the minute"
    )
    console.print(f"burst sales: {len(ends)} in {took:.0f} s = {burst.rate:.1f} a second "
                  f"({len(failed)} failed; planned for {rate:.1f}); {clean}; {inside} of "
                  f"{len(ends)} end within one "
                  f"minute (planned from {datetime.fromtimestamp(window, UTC):%H:%M:%S} UTC), "
                  f"as sold")  # fmt: skip
    return burst


async def expiry_lag(
    load: LoadGenerator,
    burst: Burst,
    progress: Progress,
    database_url: str,
    work: Path,
) -> tuple[float, int]:
    """Lag from each session's scheduled end as the database has it: a PC's paid time
    starts when its agent takes the session, so its end can be later than the sale said.
    Also where the lag went (``expiry_stages``), kept in ``expiry-moments.json``."""
    ends = burst.ends
    task = progress.add_task("waiting for the expiries", total=len(ends))
    deadline = max(ends.values()).timestamp() + 30
    while time.time() < deadline:
        _, expired_count, _ = load.counts()
        progress.update(task, completed=expired_count)
        if expired_count >= len(ends):
            break
        await asyncio.sleep(1)
    _, expired, _ = load.results()
    moments = await read_moments(database_url, expired)
    (work / "expiry-moments.json").write_text(json.dumps(moments))
    for line in stages_report(moments):
        console.print(line)
    mine = {s: m for s, m in moments.items() if s in ends}
    lags = [(m["received"] - m["end"]) * 1000 for m in mine.values()]
    moved = [m["end"] - ends[s].timestamp() for s, m in mine.items()]
    if moved:
        console.print(f"ends later than the sale said (a PC's clock starts when it takes "
                      f"its session): p50 {percentile(moved, 50):.2f} s, "
                      f"max {max(moved):.2f} s")  # fmt: skip
    inside = burst.inside([m["end"] for m in mine.values()])
    console.print(f"expired and seen by their agents: {len(mine)} of {len(ends)}; {inside} "
                  f"ended within one minute, as the database has their ends; sold at "
                  f"{burst.rate:.1f} a second")  # fmt: skip
    if lags:
        console.print(f"expiry lag: p50 {percentile(lags, 50):.0f} ms, p90 "
                      f"{percentile(lags, 90):.0f} ms, max {max(lags):.0f} ms")  # fmt: skip
    return percentile(lags, 99), len(lags)


def report(args: argparse.Namespace, floor: Figures | None, ours: Figures) -> None:
    """The figures as a table on the terminal, then as markdown ready for benchmarks.md."""
    backend = "PostgreSQL" if args.postgres else "SQLite"
    code = args.server_ref or "this code"
    title = f"{args.agents} agents, {args.procs} load processes, {backend}, {code}"
    if args.handshakes_at_once:
        title += f", {args.handshakes_at_once} handshakes at once"
    if args.sync:
        title += ", agents send sync_request"
    rows = _rows(floor or Figures(), ours)
    table = Table(title=title)
    for column in ("measure", "floor", "GameOps", "ratio", "target"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    machine = (
        f"{platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"load average {args.load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
        f"{args.started_at:%Y-%m-%d %H:%M}-{datetime.now(UTC):%H:%M} UTC"
    )
    # Plain print: rich would wrap the lines of the table.
    print(f"\n#### {title}\n")
    print("| measure | floor | GameOps | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nHandshakes told to come back (1013), all phases: {ours.refused}. Greeted at the end "
          f"of the cold start: {ours.extra.get('connected_cold')}, of the restart: "
          f"{ours.extra.get('connected_restart')}. Burst sales a second: "
          f"{ours.extra.get('burst_sale_rate', 0):.1f} "
          f"({ours.extra.get('burst_failed', 0)} failed). Machine: {machine}.")  # fmt: skip
    for what, functions in ours.extra.get("profiles", {}).items():
        print(f"\nserver profile over {what} (py-spy, GIL samples), most own time first:\n")
        print("| own % | under % | function |\n| --- | --- | --- |")
        for function, own, under in functions:
            print(f"| {own:.1f} | {under:.1f} | `{function}` |")


def _rows(f: Figures, ours: Figures) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, floor: float | None, g: float | None, fmt: str, target: str) -> None:
        ratio = f"{g / floor:.1f}x" if floor and g is not None else "—"
        shown_f = "—" if not floor else format(floor, fmt)  # 0: no --floor in this run
        shown_g = "not within 180 s" if g is None else format(g, fmt)
        rows.append((name, shown_f, shown_g, ratio, target))

    row("all connected, cold start (s)", f.connect_s, ours.connect_s, ".1f", "≤ 60 s")
    row("all back after a restart (s)", None, ours.reconnect_s, ".1f", "≤ 60 s")
    row("server CPU while all connected, cold start (s)", f.connect_cpu_s, ours.connect_cpu_s,
        ".1f", "")  # fmt: skip
    row("server CPU while all came back after a restart (s)", f.connect_cpu_s,
        ours.reconnect_cpu_s, ".1f", "")  # fmt: skip
    row("longest one agent waited, cold start (s)", None, ours.connect_wait_s, ".1f", "≤ 60 s")
    row("longest one agent waited, restart (s)", None, ours.reconnect_wait_s, ".1f", "≤ 60 s")
    row("SIGTERM -> server exited (s)", None, ours.exit_s, ".1f", "≤ 15 s")
    row("memory per connection (KB)", f.kb_per_connection, ours.kb_per_connection, ".0f", "≤ 2x")
    row("idle server RSS (MiB)", f.idle_rss_mib, ours.idle_rss_mib, ".0f", "")
    row("start answered -> agent p99 (floor: POST -> socket), ms", f.push_p99_ms,
        ours.push_p99_ms, ".1f", "≤ 5x")  # fmt: skip
    row("start requested -> agent p99 (floor: POST -> socket), ms", f.push_p99_ms,
        ours.push_sent_p99_ms, ".1f", "")  # fmt: skip
    row("heartbeats: server CPU, % of a core", None, ours.heartbeat_core_pct, ".1f", "< 20 %")
    row(f"expiry lag p99, {ours.expiry_n} in a minute (ms)", None, ours.expiry_p99_ms, ".0f",
        "< 250 ms")  # fmt: skip
    return rows


async def bench(args: argparse.Namespace) -> None:
    args.load_at_start, args.started_at = os.getloadavg()[0], datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="gameops-fleet-"))
    with Progress(console=console) as progress:
        floor = await run_floor(args, work, progress) if args.floor else None
        ours = await run_gameops(args, work, progress)
    report(args, floor, ours)
    console.print(f"logs in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=4, help="load generator processes")
    parser.add_argument(
        "--sessions", type=int, default=2000, help="the burst: sales all ending in one minute"
    )
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent burst sales")
    parser.add_argument(
        "--sale-rate",
        type=float,
        help="burst sales a second to plan the burst's minute for (default: measured first, "
        "over a twentieth of the burst's sales, which are stopped again)",
    )
    parser.add_argument(
        "--latency-sample",
        type=int,
        default=500,
        help="start -> agent: this many sales one at a time (the floor: as many pushes)",
    )
    parser.add_argument("--ramp", type=float, default=5.0, help="spread the first connects")
    parser.add_argument("--heartbeat-window", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8770)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--floor", action="store_true", help="measure the bare floor first")
    parser.add_argument(
        "--py-spy", help="py-spy's path: profile the cold start, heartbeats and the expiry burst"
    )
    parser.add_argument("--server-ref", help="serve the code of this git ref (a 'before' run)")
    parser.add_argument(
        "--sync",
        action="store_true",
        help="agents send sync_request after hello, as real agents do (one transaction each)",
    )
    parser.add_argument(
        "--handshakes-at-once", type=int, help="the server's GAMEOPS_AGENT_HANDSHAKES_AT_ONCE"
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
