"""Three replicas behind nginx on PostgreSQL and Redis, started from ``deploy/``: one is
killed (``kill -9``) or all are restarted in turn (SIGTERM, as systemd does) while agents,
dashboards and sales go on. Nothing may be lost, expired twice or seen twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent.runtime import Agent
from gameops.agent.session import Phase
from gameops.protocol import utc_now
from gameops.sim.fleet import SimStation, provision, simulated_agent
from tests.support.cluster import Cluster, Replica, nginx_binary
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.feeds import DashboardFeed
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.support.sessions import set_scheduled_end, start_session
from tests.support.waiting import eventually

AGENTS = 12
BACK_WITHIN_SECONDS = 30  # the bound for a killed replica's agents


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def cluster(database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    if nginx_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    shared = {
        "GAMEOPS_DATABASE_URL": database_url,
        "GAMEOPS_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "GAMEOPS_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        "GAMEOPS_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "GAMEOPS_DEVICE_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        # Sessions made to end during the test are found by the sweep of whichever replica
        # is alive; every replica arms its own timers.
        "GAMEOPS_EXPIRY_SWEEP_SECONDS": "1",
        # Sales here are about failover, not the till: no counted drawer needed.
        "GAMEOPS_REQUIRE_OPEN_SHIFT": "false",
    }
    cluster = Cluster.build(tmp_path, shared)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.close()


class Venue:
    """What a test drives through nginx: an admin client, agents, dashboards per replica."""

    def __init__(self, cluster: Cluster, admin: httpx.AsyncClient, token: str) -> None:
        self.cluster = cluster
        self.admin = admin
        self.token = token
        self.stations: list[SimStation] = []
        self.agents: list[Agent] = []
        self.tasks: list[asyncio.Task[int]] = []
        self.feeds: dict[int, DashboardFeed] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, cluster: Cluster) -> AsyncIterator[Venue]:
        async with httpx.AsyncClient(base_url=cluster.base_url, timeout=30) as admin:
            login = await admin.post(
                "/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
            )
            token = login.json()["access_token"]
            admin.headers["Authorization"] = f"Bearer {token}"
            venue = cls(cluster, admin, token)
            try:
                yield venue
            finally:
                await venue.close()

    async def start_agents(self, count: int) -> None:
        self.stations = await provision(self.admin, count)
        self.agents = [simulated_agent(self.cluster.base_url, s) for s in self.stations]
        self.tasks = [asyncio.create_task(agent.run()) for agent in self.agents]
        await self.all_connected(timeout=30)

    async def all_connected(self, timeout: float) -> None:
        async def connected() -> int:
            return sum(agent.link.connected for agent in self.agents)

        await eventually(connected, lambda n: n == len(self.agents), timeout=timeout)

    async def watch_every_replica(self) -> None:
        for replica in self.cluster.replicas:
            self.feeds[replica.port] = await DashboardFeed.connect(replica.ws_url, self.token)

    async def sell(self, station: SimStation, minutes: int = 60) -> dict[str, Any]:
        return await start_session(self.admin, station.id, minutes)

    async def session(self, session_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.admin.get(f"/api/v1/sessions/{session_id}")).json()
        return body

    async def event_types(self, session_id: str) -> list[str]:
        events = await self.admin.get("/api/v1/events", params={"session_id": session_id})
        return [event["type"] for event in events.json()["items"]]

    async def close(self) -> None:
        for agent in self.agents:
            agent.stop()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        for feed in self.feeds.values():
            await feed.close()


def agent_end(agent: Agent) -> Any:
    return agent.machine.scheduled_end_at if agent.machine.phase is Phase.ACTIVE else None


async def settle(probe: Callable[[], Any], timeout: float = 20) -> None:
    async def check() -> bool:
        return bool(await probe())

    await eventually(check, bool, timeout=timeout)


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
        by_station = dict(zip((s.id for s in venue.stations), venue.agents, strict=True))

        async def agents_have_every_extension() -> bool:
            for session in extended:
                now = await venue.session(session["id"])
                agent = by_station[session["station_id"]]
                if agent_end(agent) is None or agent_end(agent).isoformat() != (
                    _aware(now["scheduled_end_at"])
                ):
                    return False
            return True

        await settle(agents_have_every_extension)

        async def ended_ones_expired_once() -> bool:
            types = [await venue.event_types(s["id"]) for s in ending]
            return all(t.count("SESSION_EXPIRED") == 1 for t in types)

        await settle(ended_ones_expired_once)
        for session in sessions[3:]:
            assert (await venue.session(session["id"]))["status"] == "ACTIVE"
        for session in ending:
            assert (await venue.event_types(session["id"])).count("SESSION_EXPIRED") == 1

        survivors = [venue.feeds[r.port] for r in cluster.replicas[1:]]
        wanted = await _event_ids(venue, [s["id"] for s in extended], "SESSION_EXTENDED")
        assert len(wanted) == len(extended)

        async def every_dashboard_saw_each_once() -> bool:
            return all(_seen_once(feed, wanted) for feed in survivors)

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
                try:
                    response = await venue.admin.put(
                        f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 1}
                    )
                except httpx.HTTPError:
                    answers[0] += 1
                    continue
                answers[response.status_code] += 1
                if response.status_code == 200:
                    extended[session["id"]] += 1
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
        assert answers[200] > 0, answers
        for session in sessions:
            now = await venue.session(session["id"])
            assert now["status"] == "ACTIVE"
            # Every answered extension counted once; an unanswered one (a replica leaving
            # mid-request) not at all.
            assert now["extended_minutes"] == extended[session["id"]], (now, dict(answers))
        by_station = dict(zip((s.id for s in venue.stations), venue.agents, strict=True))

        async def agents_in_step() -> bool:
            for session in sessions:
                now = await venue.session(session["id"])
                end = agent_end(by_station[session["station_id"]])
                if end is None or end.isoformat() != _aware(now["scheduled_end_at"]):
                    return False
            return True

        await settle(agents_in_step)


def cluster_database(cluster: Cluster) -> str:
    return cluster.replicas[0].env["GAMEOPS_DATABASE_URL"]


def _aware(stamp: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).isoformat()


async def _event_ids(venue: Venue, session_ids: list[str], kind: str) -> set[int]:
    ids = set()
    for session_id in session_ids:
        events = await venue.admin.get("/api/v1/events", params={"session_id": session_id})
        ids |= {int(e["id"]) for e in events.json()["items"] if e["type"] == kind}
    return ids


def _seen_once(feed: DashboardFeed, wanted: set[int]) -> bool:
    counts = Counter(feed.ids())
    return all(counts[event_id] == 1 for event_id in wanted)
