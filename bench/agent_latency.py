"""Delivery latency with a fleet of agents connected.

Starts a real server (``gameops serve``, its own process) on a fresh database, creates N PC
stations, connects N agents (real WebSocket clients, one event loop), then:

* start latency: ``POST /sessions/start`` returns -> that agent receives ``session_start``
  (and, for reference, request sent -> agent receives);
* expiry lag: the session's ``scheduled_end_at`` -> the agent receives ``session_expired``.

Every agent gets one 1-minute session, so the expiries arrive as a burst of N within the
time the starts took. Usage::

    python bench/agent_latency.py --agents 1000                  # SQLite (embedded default)
    python bench/agent_latency.py --agents 1000 --postgres       # a fresh PostgreSQL database
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import websockets
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from server_process import ADMIN_PASSWORD, start_gameops, wait_healthy, where_measured

from gameops.protocol import (
    ACKED_COMMANDS,
    SERVER_MESSAGES,
    Ack,
    AgentHello,
    CloseCode,
    Heartbeat,
    SessionExpired,
    SessionStart,
    decode,
    encode,
)

console = Console()
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class BenchAgent:
    station_id: str
    token: str
    started_at: dict[str, float] = field(default_factory=dict)  # session id -> monotonic
    expired_at: dict[str, datetime] = field(default_factory=dict)  # session id -> wall clock
    waiters: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    sending: set[asyncio.Task[None]] = field(default_factory=set)
    reconnects: int = 0


async def run_agent(ws_url: str, agent: BenchAgent, stop: asyncio.Event) -> None:
    """Like a real agent, retry a connection that fails (a thousand handshakes at once can
    outlast the 10 s opening timeout on a busy 2-core machine) after a jittered pause."""
    while not stop.is_set():
        try:
            await _connect_and_serve(ws_url, agent, stop)
            return
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is not None and closed.rcvd.code == CloseCode.REPLACED:
                return  # a handshake the client gave up on completed late; the retry won
            raise
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            agent.reconnects += 1
            await asyncio.sleep(random.uniform(1, 5))


async def _connect_and_serve(ws_url: str, agent: BenchAgent, stop: asyncio.Event) -> None:
    async with websockets.connect(
        f"{ws_url}/ws/agent/{agent.station_id}",
        additional_headers={"Authorization": f"Bearer {agent.token}"},
        compression=None,
        max_queue=64,
    ) as ws:
        await ws.send(encode(AgentHello(agent_version="bench", os="bench", specs={})))
        beats = asyncio.create_task(_heartbeats(ws))
        try:
            while not stop.is_set():
                try:
                    frame = await asyncio.wait_for(ws.recv(), 1)
                except TimeoutError:
                    continue
                _on_frame(agent, frame, ws)
        finally:
            beats.cancel()


def _on_frame(agent: BenchAgent, frame: str | bytes, ws: websockets.ClientConnection) -> None:
    received, wall = time.monotonic(), datetime.now(UTC)
    message_id, payload = decode(frame, SERVER_MESSAGES)
    if isinstance(payload, SessionStart):
        agent.started_at[str(payload.id)] = received
        waiter = agent.waiters.pop(str(payload.id), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(received)
    elif isinstance(payload, SessionExpired):
        agent.expired_at[str(payload.id)] = wall
    if payload.TYPE in ACKED_COMMANDS:
        ack = asyncio.create_task(ws.send(encode(Ack(id=message_id))))
        agent.sending.add(ack)  # a reference until it is sent
        ack.add_done_callback(agent.sending.discard)


async def _heartbeats(ws: websockets.ClientConnection) -> None:
    await asyncio.sleep(random.uniform(0, 30))
    while True:
        await ws.send(encode(Heartbeat(cpu=random.uniform(1, 30), ram=40)))
        await asyncio.sleep(30)


async def create_fleet(
    admin: httpx.AsyncClient, count: int, progress: Progress
) -> list[BenchAgent]:
    task = progress.add_task("creating stations", total=count)
    agents: list[BenchAgent] = []
    limit = asyncio.Semaphore(16)

    async def one(index: int) -> None:
        async with limit:
            body = {"name": f"BENCH-{index:04d}", "type": "PC", "hourly_rate": 600}
            station = (await admin.post("/api/v1/stations", json=body)).json()
            token = (await admin.post(f"/api/v1/stations/{station['id']}/agent-token")).json()
            agents.append(BenchAgent(station["id"], token["token"]))
            progress.advance(task)

    await asyncio.gather(*(one(i) for i in range(count)))
    return agents


async def start_sessions(
    admin: httpx.AsyncClient, agents: list[BenchAgent], concurrency: int, progress: Progress
) -> tuple[list[float], list[float], dict[str, datetime]]:
    task = progress.add_task("starting sessions", total=len(agents))
    after_response: list[float] = []
    after_request: list[float] = []
    ends: dict[str, datetime] = {}
    limit = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def one(agent: BenchAgent) -> None:
        async with limit:
            sent = time.monotonic()
            response = await admin.post(
                "/api/v1/sessions/start",
                json={"station_id": agent.station_id, "duration_minutes": 1},
            )
            returned = time.monotonic()
            body = response.json()
            session_id = body["id"]
            ends[session_id] = datetime.fromisoformat(body["scheduled_end_at"])
            received = agent.started_at.get(session_id)
            if received is None:
                waiter: asyncio.Future[float] = loop.create_future()
                agent.waiters[session_id] = waiter
                received = await asyncio.wait_for(waiter, 10)
            after_response.append(received - returned)
            after_request.append(received - sent)
            progress.advance(task)

    await asyncio.gather(*(one(agent) for agent in agents))
    return after_response, after_request, ends


def percentiles(samples_seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_seconds)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p90": q[89], "p99": q[98], "max": ms[-1], "n": len(ms)}


async def fresh_postgres() -> tuple[str, str]:
    import asyncpg

    name = f"gameops_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(PG_ADMIN)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_postgres(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


async def bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gameops-bench-"))
    pg_name = None
    if args.postgres:
        pg_name, database_url = await fresh_postgres()
    else:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    base_url, ws_url = f"http://127.0.0.1:{args.port}", f"ws://127.0.0.1:{args.port}"
    server = start_gameops(args.port, data_dir, {"GAMEOPS_DATABASE_URL": database_url})
    stop = asyncio.Event()
    try:
        await wait_healthy(base_url)
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            with Progress(console=console) as progress:
                agents = await create_fleet(client, args.agents, progress)
                connect = progress.add_task("connecting agents", total=len(agents))
                runners = []
                for agent in agents:
                    runners.append(asyncio.create_task(run_agent(ws_url, agent, stop)))
                    progress.advance(connect)
                    await asyncio.sleep(0.002)
                await _wait_connected(client, len(agents))
                server_rss = psutil.Process(server.pid).memory_info().rss
                after_response, after_request, ends = await start_sessions(
                    client, agents, args.concurrency, progress
                )
                expiry = progress.add_task("waiting for expiries", total=len(agents))
                while True:
                    done = sum(len(a.expired_at) for a in agents)
                    progress.update(expiry, completed=done)
                    if done >= len(agents):
                        break
                    latest = max(ends.values())
                    if (datetime.now(UTC) - latest).total_seconds() > 30:
                        break
                    await asyncio.sleep(0.5)
        lags = [
            (at - ends[sid]).total_seconds()
            for agent in agents
            for sid, at in agent.expired_at.items()
        ]
        reconnects = sum(agent.reconnects for agent in agents)
        report(args, database_url, after_response, after_request, lags, server_rss, reconnects)
    finally:
        stop.set()
        server.terminate()
        server.wait(30)
        if pg_name:
            await drop_postgres(pg_name)


async def _wait_connected(client: httpx.AsyncClient, count: int) -> None:
    for _ in range(1800):
        page = await client.get("/api/v1/stations", params={"per_page": 1, "status": "ONLINE"})
        if page.json()["meta"]["total"] >= count:
            return
        await asyncio.sleep(0.1)
    raise SystemExit("agents did not all come online within 180 s")


def report(
    args: argparse.Namespace,
    database_url: str,
    after_response: list[float],
    after_request: list[float],
    lags: list[float],
    server_rss: int,
    reconnects: int,
) -> None:
    backend = "PostgreSQL" if args.postgres else "SQLite"
    table = Table(title=f"{args.agents} agents, {backend}, concurrency {args.concurrency}")
    for column in ("measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column)
    for name, samples in [
        ("start: response -> agent", after_response),
        ("start: request -> agent", after_request),
        ("expiry lag: end -> agent", lags),
    ]:
        stats = percentiles(samples)
        table.add_row(
            name,
            str(stats["n"]),
            f"{stats['p50']:.1f}",
            f"{stats['p90']:.1f}",
            f"{stats['p99']:.1f}",
            f"{stats['max']:.1f}",
        )
    console.print(table)
    console.print(
        f"server RSS with {args.agents} agents connected: {server_rss / 2**20:.0f} MiB; "
        f"connections retried after a failed handshake: {reconnects}; {where_measured()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10, help="concurrent starts")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL DB")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
