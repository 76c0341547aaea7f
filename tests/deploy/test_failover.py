"""Three replicas behind nginx on PostgreSQL and Redis, started from ``deploy/``: one is
killed (``kill -9``) or all are restarted in turn (SIGTERM, as systemd does) while agents,
dashboards and sales go on. Nothing may be lost, expired twice or seen twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from gameops.protocol import utc_now
from tests.support.cluster import Cluster, Replica, require_nginx
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.failover import (
    Venue,
    cluster_database,
    cluster_env,
    event_ids,
    seen_once,
    settle,
)
from tests.support.sessions import set_scheduled_end

AGENTS = 12
BACK_WITHIN_SECONDS = 30  # the bound for a killed replica's agents


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def cluster(database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    require_nginx()
    cluster = Cluster.build(tmp_path, cluster_env(database_url))
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.close()


async def test_a_killed_replica_loses_nothing(cluster: Cluster) -> None:
    async with Venue.open(cluster) as venue:
        await venue.start_agents(AGENTS)
        await venue.watch_every_replica()
        sessions = [await venue.sell(station) for station in venue.stations]
        ending = sessions[:3]  # made to end while the replica is down
        for session in ending:
            await set_scheduled_end(
                cluster_database(cluster), session["id"], utc_now() + timedelta(seconds=4)
            )

        victim: Replica = cluster.replicas[0]
        victim.kill()
        extended = sessions[3:9]
        for session in extended:  # sold while the failover is under way
            response = await venue.admin.put(
                f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 30}
            )
            assert response.status_code == 200, response.text

        await venue.all_connected(timeout=BACK_WITHIN_SECONDS)
        await settle(lambda: venue.in_step(extended))

        async def ended_ones_expired_once() -> bool:
            types = [await venue.event_types(s["id"]) for s in ending]
            return all(t.count("SESSION_EXPIRED") == 1 for t in types)

        await settle(ended_ones_expired_once)
        for session in sessions[3:]:
            assert (await venue.session(session["id"]))["status"] == "ACTIVE"
        for session in ending:
            assert (await venue.event_types(session["id"])).count("SESSION_EXPIRED") == 1

        survivors = [venue.feeds[r.port] for r in cluster.replicas[1:]]
        wanted = await event_ids(venue, [s["id"] for s in extended], "SESSION_EXTENDED")
        assert len(wanted) == len(extended)

        async def every_dashboard_saw_each_once() -> bool:
            return all(seen_once(feed, wanted) for feed in survivors)

        await settle(every_dashboard_saw_each_once)


async def test_rolling_restart_under_sales_loses_nothing(cluster: Cluster) -> None:
    async with Venue.open(cluster) as venue:
        await venue.start_agents(6)
        sessions = [await venue.sell(station, minutes=120) for station in venue.stations]
        answers: Counter[int] = Counter()
        extended: Counter[str] = Counter()
        stop = asyncio.Event()

        async def steady_sales() -> None:
            turn = 0
            while not stop.is_set():
                session = sessions[turn % len(sessions)]
                turn += 1
                await venue.extend_counted(session, answers, extended)
                await asyncio.sleep(0.05)

        seller = asyncio.create_task(steady_sales())
        stop_times = []
        for replica in cluster.replicas:
            stop_times.append(await replica.terminate())
            await replica.start()
            await venue.all_connected(timeout=BACK_WITHIN_SECONDS)
        stop.set()
        await seller

        print(f"SIGTERM to exit: {stop_times}; answers: {dict(answers)}")
        assert all(seconds <= 15 for seconds in stop_times), stop_times
        # Nobody notices: nginx takes every sale to a replica that is staying.
        assert answers[200] > 0 and set(answers) == {200}, (answers, cluster.nginx_errors())
        for session in sessions:
            now = await venue.session(session["id"])
            assert now["status"] == "ACTIVE"
            # Every answered extension counted once; an unanswered one (a replica leaving
            # mid-request) not at all.
            assert now["extended_minutes"] == extended[session["id"]], (now, dict(answers))
        await settle(lambda: venue.in_step(sessions))
