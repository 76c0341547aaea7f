"""The start of a tournament: N members log in at N PCs at the same moment.

Starts a real server (``gameops serve``, its own process) on a fresh database, creates N PC
stations and N members (a PIN each, a balance each), connects N agents (real WebSocket
clients in one event loop, like ``agent_latency.py``), then:

* baseline: every agent sends ``sync_request`` at once and waits for its answer (a round
  trip through the server's socket and one database read, no password check);
* logins: every agent sends ``login`` at once; measured from the send to that agent
  receiving ``session_start`` (the PC unlocks there).

Afterwards the ledger is read back: each member charged exactly one block, the balances and
the ledger agree, one ACTIVE session per station. Usage::

    python bench/selfserve_logins.py --agents 500 --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from agent_latency import _wait_connected, drop_postgres, fresh_postgres
from rich.console import Console
from rich.table import Table
from server_process import ADMIN_PASSWORD, start_gameops, wait_healthy, where_measured

from gameops.protocol import (
    SERVER_MESSAGES,
    AgentHello,
    Error,
    Login,
    LoginResult,
    NoSession,
    Payload,
    SessionStart,
    StationInfo,
    SyncRequest,
    decode,
    encode,
)

console = Console()
PIN = "2580"
BALANCE = 10_000  # 100.00: one 15-minute block at 6.00/h costs 1.50
RATE = 600


@dataclass
class Pc:
    station_id: str
    token: str
    username: str = ""
    ws: websockets.ClientConnection | None = None


async def expect(
    ws: websockets.ClientConnection, kind: type[Payload] | tuple[type[Payload], ...], seconds: float
) -> Payload:
    async with asyncio.timeout(seconds):
        while True:
            _, payload = decode(await ws.recv(), SERVER_MESSAGES)
            if isinstance(payload, kind):
                return payload


async def create(admin: httpx.AsyncClient, count: int) -> list[Pc]:
    limit = asyncio.Semaphore(8)
    pcs: list[Pc] = []

    async def one(index: int) -> None:
        async with limit:
            body = {"name": f"T-{index:04d}", "type": "PC", "hourly_rate": RATE}
            created = await admin.post("/api/v1/stations", json=body)
            assert created.status_code == 201, created.text
            station = created.json()
            token = (await admin.post(f"/api/v1/stations/{station['id']}/agent-token")).json()
            name = f"player{index:04d}"
            member = await admin.post("/api/v1/customers", json={"username": name, "pin": PIN})
            member_id = member.json()["id"]
            await admin.post(f"/api/v1/users/{member_id}/topups", json={"amount": BALANCE})
            pcs.append(Pc(station["id"], token["token"], name))

    await asyncio.gather(*(one(i) for i in range(count)))
    return pcs


async def connect(ws_url: str, pc: Pc) -> None:
    for _ in range(20):
        try:
            pc.ws = await websockets.connect(
                f"{ws_url}/ws/agent/{pc.station_id}",
                additional_headers={"Authorization": f"Bearer {pc.token}"},
                compression=None,
                open_timeout=30,
            )
            break
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            await asyncio.sleep(1)
    assert pc.ws is not None
    await pc.ws.send(encode(AgentHello(agent_version="bench", os="bench", specs={})))
    await expect(pc.ws, StationInfo, 60)


async def round_trip(pc: Pc, request: Payload, answer: type[Payload]) -> tuple[float, Payload]:
    assert pc.ws is not None
    sent = time.monotonic()
    await pc.ws.send(encode(request))
    payload = await expect(pc.ws, answer, 600)
    return time.monotonic() - sent, payload


REFUSALS: dict[str, int] = {}


async def log_in(pc: Pc) -> tuple[float, bool]:
    assert pc.ws is not None
    sent = time.monotonic()
    await pc.ws.send(encode(Login(username=pc.username, secret=PIN)))
    result = await expect(pc.ws, (LoginResult, Error), 600)
    if isinstance(result, Error):  # the server could not handle it: a failed login
        REFUSALS[f"error: {result.detail}"] = REFUSALS.get(f"error: {result.detail}", 0) + 1
        return time.monotonic() - sent, False
    assert isinstance(result, LoginResult)
    if not result.ok:
        REFUSALS[result.message] = REFUSALS.get(result.message, 0) + 1
        return time.monotonic() - sent, False
    await expect(pc.ws, SessionStart, 600)
    return time.monotonic() - sent, True


async def ledger_check(database_url: str, count: int) -> dict[str, Any]:
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        debits = await connection.fetch(
            "SELECT user_id, count(*) AS n, sum(amount) AS total FROM ledger_entries"
            " WHERE kind = 'DEBIT' GROUP BY user_id"
        )
        mismatched = await connection.fetchval(
            "SELECT count(*) FROM users u WHERE u.role = 'CUSTOMER' AND u.balance <>"
            " (SELECT coalesce(sum(amount), 0) FROM ledger_entries l WHERE l.user_id = u.id)"
        )
        active = await connection.fetchval("SELECT count(*) FROM sessions WHERE status='ACTIVE'")
        open_logins = await connection.fetchval(
            "SELECT count(*) FROM play_sessions WHERE ended_at IS NULL"
        )
    finally:
        await connection.close()
    return {
        "members charged": len(debits),
        "charged more than once": sum(1 for row in debits if row["n"] != 1),
        "charges": sorted({-int(row["total"]) for row in debits}),
        "balance != ledger": mismatched,
        "active sessions": active,
        "open logins": open_logins,
        "expected": count,
    }


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def stats(samples: list[float]) -> list[str]:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return [str(len(ms)), f"{q[49]:.0f}", f"{q[89]:.0f}", f"{q[98]:.0f}", f"{ms[-1]:.0f}"]


async def bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gameops-bench-"))
    pg_name, database_url = await fresh_postgres()
    base_url, ws_url = f"http://127.0.0.1:{args.port}", f"ws://127.0.0.1:{args.port}"
    settings = {
        "GAMEOPS_DATABASE_URL": database_url,
        "GAMEOPS_PLAY_RENEW_POLL_SECONDS": "5",
        "GAMEOPS_HEARTBEAT_INTERVAL_SECONDS": "600",  # these agents send none
    }
    server = start_gameops(args.port, data_dir, settings)
    pcs: list[Pc] = []
    try:
        await wait_healthy(base_url)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as admin:
            login = await admin.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            admin.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            console.print(f"creating {args.agents} stations and members...")
            pcs = await create(admin, args.agents)
            console.print("connecting agents...")
            for chunk in range(0, len(pcs), 50):
                await asyncio.gather(*(connect(ws_url, pc) for pc in pcs[chunk : chunk + 50]))
            await _wait_connected(admin, len(pcs))
        console.print("baseline: sync_request from every PC at once...")
        baseline = await asyncio.gather(*(round_trip(pc, SyncRequest(), NoSession) for pc in pcs))
        console.print("logins: every member at once...")
        server_cpu = cpu_seconds(server.pid)
        logins = await asyncio.gather(*(log_in(pc) for pc in pcs))
        # CPU the server spent per login (argon2 threads included): unlike the latencies,
        # it does not depend on how busy the rest of the machine is.
        cpu_ms = (cpu_seconds(server.pid) - server_cpu) * 1000 / len(pcs)
        checks = await ledger_check(database_url, len(pcs))
        checks["server CPU ms per login"] = round(cpu_ms, 1)
        report(args, [t for t, _ in baseline], logins, checks)
    finally:
        for pc in pcs:
            if pc.ws is not None:
                await pc.ws.close()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave it running
            server.kill()
            server.wait(30)
        await drop_postgres(pg_name)


def report(
    args: argparse.Namespace,
    baseline: list[float],
    logins: list[tuple[float, bool]],
    checks: dict[str, Any],
) -> None:
    table = Table(title=f"{args.agents} simultaneous logins, PostgreSQL")
    for column in ("measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column)
    console.print(f"refusals: {REFUSALS}")
    table.add_row("baseline: sync_request -> answer", *stats(baseline))
    table.add_row("login -> session_start on the PC", *stats([t for t, ok in logins if ok]))
    console.print(table)
    p99 = statistics.quantiles(sorted(t for t, ok in logins if ok), n=100)[98]
    base = statistics.quantiles(sorted(baseline), n=100)[98]
    refused = sum(1 for _, ok in logins if not ok)
    console.print(f"refused: {refused}; p99 ratio login/baseline: {p99 / base:.1f}")
    console.print(checks)
    console.print(where_measured())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--postgres", action="store_true", help="(always PostgreSQL)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
