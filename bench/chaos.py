"""The chaos test at length: a real server on PostgreSQL with Redis, both behind loopback
proxies; steady traffic from several operators with agents and dashboards connected; Redis
cut, then PostgreSQL cut, each for ``--cut`` seconds. Then the same checks as the suite's
test (tests/server/outbox/test_chaos.py): every 2xx in the database once, every non-2xx
absent, every agent's commands and every dashboard's events once.

    .venv/bin/python bench/chaos.py --cut 20 --stations 20 --workers 6

Only loopback addresses; the shared Redis and PostgreSQL are never stopped (the proxies are
cut). Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from sqlalchemy.engine import make_url

from gameops.logging import configure_logging

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.chaos import Venue
from tests.support.databases import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    on_fresh_postgres,
)
from tests.support.live_server import LiveServer, server_settings
from tests.support.proxy import TcpProxy

console = Console()


async def run(args: argparse.Namespace, database_url: str) -> bool:
    proxies = {"redis": TcpProxy(REDIS_HOST, REDIS_PORT), "postgres": TcpProxy(PG_HOST, PG_PORT)}
    for proxy in proxies.values():
        await proxy.start()
    url = make_url(database_url).set(port=proxies["postgres"].port)
    with tempfile.TemporaryDirectory() as data:
        settings = server_settings(
            url.render_as_string(hide_password=False),
            Path(data),
            device_key=uuid.uuid4().hex,  # replicas must share their keys
            redis_url=proxies["redis"].url("redis", "/0"),
            redis_prefix=f"chaos-bench-{uuid.uuid4().hex[:8]}:",
            heartbeat_interval_seconds=3600,
            log_level="ERROR",
        )
        server = LiveServer(settings)
        await server.start()
        venue = await Venue.open(server, stations=args.stations, feeds=args.feeds)
        try:
            for name in ("redis", "postgres"):
                await _cut(venue, proxies[name], name, args)
            await venue.drained(timeout=120)
            await venue.check_database(database_url)
            await venue.check_agents(timeout=120)
            await venue.check_feeds(database_url, timeout=120)
        finally:
            _report(venue)
            await venue.close()
            await server.close()
            for proxy in proxies.values():
                await proxy.close()
    return all(o.status == 503 for o in venue.failed())


async def _cut(venue: Venue, proxy: TcpProxy, name: str, args: argparse.Namespace) -> None:
    total = args.before + args.cut + args.after
    traffic = asyncio.create_task(venue.traffic(total, workers=args.workers))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{name}: traffic, cut for {args.cut:g} s", total=total)
        started = time.monotonic()
        cut = restored = False
        while not traffic.done():
            elapsed = time.monotonic() - started
            if not cut and elapsed >= args.before:
                await proxy.cut()
                cut = True
            if cut and not restored and elapsed >= args.before + args.cut:
                proxy.restore()
                restored = True
            progress.update(task, completed=min(elapsed, total))
            await asyncio.sleep(0.2)
    proxy.restore()
    await traffic
    console.print(f"{name} cut for {args.cut:g} s under traffic: done")


def _report(venue: Venue) -> None:
    by_status = Counter((o.op, o.status) for o in venue.outcomes)
    console.print(f"{len(venue.outcomes)} requests:")
    for (op, status), count in sorted(by_status.items()):
        console.print(f"  {op:7} {status}: {count}")
    slowest = max(venue.outcomes, key=lambda o: o.seconds, default=None)
    if slowest is not None:
        console.print(f"slowest answer: {slowest.op} {slowest.status} in {slowest.seconds:.1f} s")
    commands = sum(len(agent.received) for agent in venue.agents.values())
    events = [len(feed.events) for feed in venue.feeds]
    console.print(f"agents received {commands} messages; dashboards {events} events each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cut", type=float, default=20, help="seconds each service is cut")
    parser.add_argument("--before", type=float, default=5)
    parser.add_argument("--after", type=float, default=10)
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=6)
    args = parser.parse_args()
    configure_logging("ERROR")  # as `gameops serve` logs: plain tracebacks
    ok = on_fresh_postgres(lambda url: run(args, url))
    console.print("[bold green]every check held[/]" if ok else "[bold red]a check failed[/]")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
