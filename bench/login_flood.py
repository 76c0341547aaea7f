"""/health latency while wrong logins flood the server, as a ratio to the idle baseline
measured in the same run (issue 11 §2: argon2 on the event loop stalled everything).

Starts ``gameops serve`` as its own process on a fresh SQLite database, probes ``/health``
every ``--interval`` seconds for ``--seconds`` with the server idle, then again while
``--concurrency`` clients post wrong passwords as fast as they are answered.

    .venv/bin/python bench/login_flood.py --concurrency 40 --seconds 10
    .venv/bin/python bench/login_flood.py --default-limits      # the rate limits as shipped
    .venv/bin/python bench/login_flood.py --server-src /tmp/old/src  # another version's code
    .venv/bin/python bench/login_flood.py --burst   # 40 logins at once, probe until answered
    .venv/bin/python bench/login_flood.py --flood me    # reference: a flood of cheap 401s

By default the login rate limits are raised out of the way, so every wrong login costs a
full argon2 check (the worst case for the CPU); ``--default-limits`` keeps them, and most
of the flood is then answered 429 without hashing. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from server_process import start_gameops, wait_healthy, where_measured

NO_LIMIT = "1000000 per minute"


async def probe(
    client: httpx.AsyncClient,
    seconds: float,
    interval: float,
    until: list[asyncio.Task[None]] | None = None,
) -> list[float]:
    """``/health`` latencies, one probe every ``interval`` (or as soon as the last answered),
    for ``seconds`` or, given ``until``, until those tasks are done."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def going() -> bool:
        if until is not None:
            return not latencies or not all(task.done() for task in until)
        return time.monotonic() < deadline

    while going():
        began = time.monotonic()
        response = await client.get("/health")
        latencies.append(time.monotonic() - began)
        assert response.status_code == 200, response.text
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
    return latencies


async def flood(
    client: httpx.AsyncClient, stop: asyncio.Event, statuses: Counter[int], what: str, once: bool
) -> None:
    """Requests one after another until ``stop`` (or just one, ``once``)."""
    body = {"username": "admin", "password": "not-the-password"}
    while True:
        if what == "login":
            response = await client.post("/api/v1/auth/login", json=body)
        else:  # the reference: a request refused at once, no password, no rate limit
            response = await client.get("/api/v1/auth/me")
        statuses[response.status_code] += 1
        if once or stop.is_set():
            return


def summary(latencies: list[float]) -> dict[str, float]:
    ms = sorted(value * 1000 for value in latencies)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "p50": q[49], "p90": q[89], "p99": q[98], "max": ms[-1]}


async def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data:
        no_limits = {
            "GAMEOPS_LOGIN_LIMIT_PER_ACCOUNT": NO_LIMIT,
            "GAMEOPS_LOGIN_LIMIT_PER_IP": NO_LIMIT,
        }
        settings = {} if args.default_limits else no_limits
        server = start_gameops(args.port, Path(data), settings, src=args.server_src)
        base_url = f"http://127.0.0.1:{args.port}"
        limits = httpx.Limits(max_connections=args.concurrency + 10)
        try:
            await wait_healthy(base_url)
            async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
                idle = await probe(client, args.seconds, args.interval)
                stop, statuses = asyncio.Event(), Counter[int]()
                flooders = [
                    asyncio.create_task(flood(client, stop, statuses, args.flood, args.burst))
                    for _ in range(args.concurrency)
                ]
                began = time.monotonic()
                until = flooders if args.burst else None
                loaded = await probe(client, args.seconds, args.interval, until)
                stop.set()
                await asyncio.gather(*flooders)
                elapsed = time.monotonic() - began
        finally:
            server.terminate()
            server.wait(30)
    report(args, summary(idle), summary(loaded), statuses, elapsed)


def report(
    args: argparse.Namespace,
    idle: dict[str, float],
    loaded: dict[str, float],
    statuses: Counter[int],
    elapsed: float,
) -> None:
    print(where_measured())
    limits = "default" if args.default_limits else "raised (every login hashed)"
    source = args.server_src or "this checkout"
    print(
        f"server: {source}; login rate limits {limits}; "
        f"{args.concurrency} clients {'each sending one' if args.burst else 'flooding'} "
        f"{args.flood}"
    )
    print("| /health | n | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, row in (("idle", idle), ("during the flood", loaded)):
        cells = " | ".join(f"{row[key]:.1f}" for key in ("p50", "p90", "p99", "max"))
        print(f"| {name} | {row['n']:.0f} | {cells} |")
    print(
        f"ratio flood/idle: p50 {loaded['p50'] / idle['p50']:.1f}x, "
        f"p99 {loaded['p99'] / idle['p99']:.1f}x, max {loaded['max'] / idle['max']:.1f}x"
    )
    answered = sum(statuses.values())
    print(
        f"requests answered: {answered} in {elapsed:.1f} s ({answered / elapsed:.1f}/s), "
        f"by status: {dict(sorted(statuses.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0, help="each phase")
    parser.add_argument("--interval", type=float, default=0.05, help="between /health probes")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--default-limits", action="store_true")
    parser.add_argument("--server-src", help="a src/ directory to run the server from")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="each client sends one request (the issue's 40 at once); probe until answered",
    )
    parser.add_argument(
        "--flood",
        choices=["login", "me"],
        default="login",
        help="me: unauthenticated GET /auth/me, a reference flood of cheap refusals",
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
