"""What the failover test and its bench (``bench/failover.py``) drive through nginx: agents,
dashboards on every replica and sales; and the checks that nothing was lost, expired twice
or seen twice."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx

from gameops.agent.runtime import Agent
from gameops.agent.session import Phase
from gameops.sim.fleet import SimStation, provision, simulated_agent
from tests.support.cluster import Cluster
from tests.support.databases import REDIS_HOST, REDIS_PORT
from tests.support.feeds import DashboardFeed
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.support.sessions import start_session
from tests.support.waiting import eventually


def cluster_env(database_url: str) -> dict[str, str]:
    """The settings every replica shares (the unit's environment file)."""
    return {
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

    async def start_agents(self, count: int, timeout: float = 30) -> None:
        self.stations = await provision(self.admin, count)
        self.agents = [simulated_agent(self.cluster.base_url, s) for s in self.stations]
        self.tasks = [asyncio.create_task(agent.run()) for agent in self.agents]
        await self.all_connected(timeout=timeout)

    def connected(self) -> int:
        return sum(agent.link.connected for agent in self.agents)

    def stragglers(self) -> Counter[str]:
        """How the agents that are not connected ended their latest attempt."""
        return Counter(
            f"{agent.link.last_outcome} connecting={agent.link.connecting}"
            f" attempts={agent.link.attempts}"
            for agent in self.agents
            if not agent.link.connected
        )

    async def all_connected(self, timeout: float) -> None:
        async def connected() -> int:
            return self.connected()

        try:
            await eventually(connected, lambda n: n == len(self.agents), timeout=timeout)
        except AssertionError as err:
            raise AssertionError(f"{err}; not connected: {dict(self.stragglers())}") from None

    async def watch_every_replica(self) -> None:
        for replica in self.cluster.replicas:
            self.feeds[replica.port] = await DashboardFeed.connect(replica.ws_url, self.token)

    async def sell(self, station: SimStation, minutes: int = 60) -> dict[str, Any]:
        return await start_session(self.admin, station.id, minutes)

    async def session(self, session_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.admin.get(f"/api/v1/sessions/{session_id}")).json()
        return body

    async def in_step(self, sessions: list[dict[str, Any]]) -> bool:
        """Each session's agent shows the end the server has for it now."""
        by_station = dict(zip((s.id for s in self.stations), self.agents, strict=True))
        for session in sessions:
            now = await self.session(session["id"])
            end = agent_end(by_station[session["station_id"]])
            if end is None or end.isoformat() != aware(now["scheduled_end_at"]):
                return False
        return True

    async def extend_counted(
        self, session: dict[str, Any], answers: Counter[int], extended: Counter[str]
    ) -> None:
        """Sell one more minute of ``session`` as the dashboard does, with its own
        Idempotency-Key (nginx may resend a PUT that a replica going away had taken); count
        the answer (0: none came) and, if it was a 200, the extension."""
        try:
            response = await self.admin.put(
                f"/api/v1/sessions/{session['id']}/extend",
                json={"additional_minutes": 1},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
        except httpx.HTTPError:
            answers[0] += 1
            return
        answers[response.status_code] += 1
        if response.status_code == 200:
            extended[session["id"]] += 1

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


def cluster_database(cluster: Cluster) -> str:
    return cluster.replicas[0].env["GAMEOPS_DATABASE_URL"]


def aware(stamp: str) -> str:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).isoformat()


async def event_ids(venue: Venue, session_ids: list[str], kind: str) -> set[int]:
    ids = set()
    for session_id in session_ids:
        events = await venue.admin.get("/api/v1/events", params={"session_id": session_id})
        ids |= {int(e["id"]) for e in events.json()["items"] if e["type"] == kind}
    return ids


def seen_once(feed: DashboardFeed, wanted: set[int]) -> bool:
    counts = Counter(feed.ids())
    return all(counts[event_id] == 1 for event_id in wanted)
