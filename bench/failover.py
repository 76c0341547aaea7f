"""The failover and rolling-restart tests (tests/deploy/test_failover.py) at full size: three
replicas started from ``deploy/`` behind a real nginx, on PostgreSQL and Redis, with
``--agents`` simulated PCs (the real agent runtime) and a session on each.

1. ``kill -9`` one replica while sales go on: how long until every agent is back through the
   others, then the same checks as the test (every extension on its agent, each session
   that ended meanwhile expired exactly once, the others still active, every surviving
   dashboard saw each extension once).
2. A rolling restart of every replica (SIGTERM, as systemd stops a unit) under steady sales:
   SIGTERM → exit for each, how long until every agent is back each time, and every answered
   extension counted exactly once on its session and its agent.

    .venv/bin/python bench/failover.py --agents 300

Exit status 0 when every check holds. Results by hand into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.cluster import Cluster
from tests.support.databases import on_fresh_postgres
from tests.support.failover import (
    Venue,
    cluster_env,
    event_ids,
    seen_once,
)
from tests.support.sessions import set_scheduled_end
from tests.support.waiting import eventually

from gameops.logging import configure_logging
from gameops.protocol import utc_now

console = Console()
T = TypeVar("T")


async def at_most(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``jobs`` with ``limit`` of them at once (an operator's till, not a flood)."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def back_after(venue: Venue, started: float, within: float) -> float:
    """Seconds from ``started`` until every agent is connected again."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("agents back", total=len(venue.agents))

        async def connected() -> int:
            count = venue.connected()
            progress.update(task, completed=count)
            return count

        try:
            await eventually(connected, lambda n: n == len(venue.agents), timeout=within)
        except AssertionError as err:
            raise AssertionError(f"{err}; not back: {dict(venue.stragglers())}") from None
    return time.monotonic() - started


async def kill_one(
    venue: Venue, sessions: list[dict[str, Any]], database_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    cluster = venue.cluster
    ending = sessions[: max(1, len(sessions) // 10)]
    extended = sessions[len(ending) : len(ending) + max(1, len(sessions) // 5)]
    for session in ending:  # made to end while the replica is down
        await set_scheduled_end(database_url, session["id"], utc_now() + timedelta(seconds=4))
    started = time.monotonic()
    cluster.replicas[0].kill()

    async def extend(session: dict[str, Any]) -> int:
        response = await venue.admin.put(
            f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 30}
        )
        return response.status_code

    answers = Counter(await at_most(8, [lambda s=s: extend(s) for s in extended]))
    back = await back_after(venue, started, args.timeout)

    async def checks() -> dict[str, bool]:
        types = [await venue.event_types(s["id"]) for s in ending]
        wanted = await event_ids(venue, [s["id"] for s in extended], "SESSION_EXTENDED")
        survivors = [venue.feeds[r.port] for r in cluster.replicas[1:]]
        return {
            "every extension answered 200": answers == Counter({200: len(extended)}),
            "every extension on its agent": await venue.in_step(extended),
            "each ended session expired once": all(t.count("SESSION_EXPIRED") == 1 for t in types),
            "every surviving dashboard saw each extension once": len(wanted) == len(extended)
            and all(seen_once(feed, wanted) for feed in survivors),
        }

    held = await eventually(checks, lambda c: all(c.values()), timeout=args.timeout)
    await cluster.replicas[0].start()
    return {"back_seconds": back, "answers": dict(answers), "checks": held}


async def roll(
    venue: Venue, sessions: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    live = [s for s in sessions if (await venue.session(s["id"]))["status"] == "ACTIVE"]
    answers: Counter[int] = Counter()
    extended: Counter[str] = Counter()
    stop = asyncio.Event()

    async def seller(turn: int) -> None:
        while not stop.is_set():
            session = live[turn % len(live)]
            turn += args.sellers
            await venue.extend_counted(session, answers, extended)

    before = {s["id"]: (await venue.session(s["id"]))["extended_minutes"] for s in live}
    sellers = [asyncio.create_task(seller(n)) for n in range(args.sellers)]
    stop_seconds, back_seconds = [], []
    for replica in venue.cluster.replicas:
        sent_away = time.monotonic()
        stop_seconds.append(await replica.terminate())
        back_seconds.append(await back_after(venue, sent_away, args.timeout))
        await replica.start()
    stop.set()
    await asyncio.gather(*sellers)

    async def checks() -> dict[str, bool]:
        counted = True
        for session in live:
            now = await venue.session(session["id"])
            counted &= now["status"] == "ACTIVE" and (
                now["extended_minutes"] - before[session["id"]] == extended[session["id"]]
            )
        return {
            "every answered extension counted once": counted,
            "every agent in step with its session": await venue.in_step(live),
            "each replica exited within 15 s of SIGTERM": all(s <= 15 for s in stop_seconds),
        }

    held = await eventually(checks, lambda c: all(c.values()), timeout=args.timeout)
    return {
        "stop_seconds": stop_seconds,
        "back_seconds": back_seconds,
        "answers": dict(answers),
        "checks": held,
    }


async def run(args: argparse.Namespace, database_url: str) -> bool:
    with tempfile.TemporaryDirectory() as directory:
        cluster = Cluster.build(Path(directory), cluster_env(database_url), count=3)
        try:
            await cluster.start()
            async with Venue.open(cluster) as venue:
                console.print(f"3 replicas behind nginx; connecting {args.agents} agents")
                started = time.monotonic()
                await venue.start_agents(args.agents, timeout=args.timeout)
                connect_seconds = time.monotonic() - started
                await venue.watch_every_replica()
                sessions = await at_most(
                    8, [lambda s=s: venue.sell(s, minutes=180) for s in venue.stations]
                )
                killed = await kill_one(venue, sessions, database_url, args)
                rolled = await roll(venue, sessions, args)
            errors = cluster.nginx_errors()
        except BaseException:
            console.print(cluster.logs())
            raise
        finally:
            await cluster.close()
    _report(args, connect_seconds, killed, rolled)
    for message, count in errors.most_common(12):
        console.print(f"nginx: {count} times: {message}")
    return all(killed["checks"].values()) and all(rolled["checks"].values())


def _report(
    args: argparse.Namespace, connect: float, killed: dict[str, Any], rolled: dict[str, Any]
) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(
        f"{platform.node()}, {os.cpu_count()} cores, load {load}, {utc_now():%F %H:%M} UTC"
    )
    table = Table(title=f"failover at {args.agents} agents, 3 replicas, nginx, PostgreSQL + Redis")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("all agents connected (provision + connect)", f"{connect:.1f} s")
    table.add_row("kill -9 → every agent back", f"{killed['back_seconds']:.1f} s")
    table.add_row("extensions during the kill", str(killed["answers"]))
    stops = ", ".join(f"{s:.1f}" for s in rolled["stop_seconds"])
    backs = ", ".join(f"{s:.1f}" for s in rolled["back_seconds"])
    table.add_row("rolling restart: SIGTERM → exit (s)", stops)
    table.add_row("rolling restart: SIGTERM → its agents all on the others (s)", backs)
    table.add_row("extensions during the roll", str(rolled["answers"]))
    for name, held in {**killed["checks"], **rolled["checks"]}.items():
        table.add_row(name, "[green]held[/]" if held else "[red]FAILED[/]")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--sellers", type=int, default=4, help="tills extending at once")
    parser.add_argument("--timeout", type=float, default=120, help="seconds any wait may take")
    args = parser.parse_args()
    configure_logging("ERROR")
    ok = on_fresh_postgres(lambda url: run(args, url))
    console.print("[bold green]every check held[/]" if ok else "[bold red]a check failed[/]")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
