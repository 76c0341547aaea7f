"""Steady venue traffic while a service is cut, and the checks afterwards (issue 11 §1):
every 2xx is in the database exactly once, every non-2xx is not there at all, every agent
got its commands once, every dashboard saw every event once. Used by the chaos test in the
suite (short cuts) and by ``bench/chaos.py`` (longer ones)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from gameops.protocol import SessionEnd, SessionExtended, SessionStart
from gameops.server.db.engine import create_engine
from gameops.server.db.models import Event, GameSession, Payment, User
from tests.support.agent_client import ScriptedAgent
from tests.support.feeds import DashboardFeed
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.money import create_customer
from tests.support.waiting import eventually

API = "/api/v1"
MINUTES, EXTRA_MINUTES, TOP_UP = 60, 15, 500


@dataclass
class Outcome:
    op: str  # start, extend, stop, topup
    target: str  # station id (start), session id (extend, stop), customer id (topup)
    status: int  # 0: no answer within the client's timeout
    body: dict[str, Any]
    seconds: float = 0.0
    began: float = 0.0  # loop time


@dataclass
class Venue:
    server: LiveServer
    admin: httpx.AsyncClient
    agents: dict[str, ScriptedAgent]  # by station id
    feeds: list[DashboardFeed]
    customers: list[str]
    free: list[str] = field(default_factory=list)  # stations with no session
    running: list[tuple[str, str]] = field(default_factory=list)  # (session id, station id)
    outcomes: list[Outcome] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def open(cls, server: LiveServer, stations: int = 6, feeds: int = 2) -> Venue:
        admin = await server.admin_client()
        # Longer than the server's wait to confirm a commit whose connection dropped (30 s).
        admin.timeout = httpx.Timeout(60)
        agents: dict[str, ScriptedAgent] = {}
        for n in range(stations):
            station_id, token = await create_station_with_token(admin, f"PC-{n:02d}")
            agents[station_id] = await ScriptedAgent.connect(server.ws_url, station_id, token)
        token = await server.login()
        dashboards = [await DashboardFeed.connect(server.ws_url, token) for _ in range(feeds)]
        customers = [(await create_customer(admin))["id"] for _ in range(3)]
        venue = cls(server, admin, agents, dashboards, customers, free=list(agents))
        venue._readers = [asyncio.create_task(_read_forever(a)) for a in agents.values()]
        return venue

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        for feed in self.feeds:
            await feed.close()
        for agent in self.agents.values():
            with contextlib.suppress(Exception):
                await agent.close()

    async def traffic(self, seconds: float, workers: int = 3, pause: float = 0.05) -> None:
        """Requests back to back from ``workers`` operators for ``seconds``."""
        deadline = asyncio.get_running_loop().time() + seconds

        async def operator(seed: int) -> None:
            chance = random.Random(seed)
            while asyncio.get_running_loop().time() < deadline:
                await self._one(chance)
                await asyncio.sleep(pause)

        await asyncio.gather(*(operator(n) for n in range(workers)))

    async def _one(self, chance: random.Random) -> None:
        roll = chance.random()
        if roll < 0.3 and self.free:
            await self._start(self.free.pop(chance.randrange(len(self.free))))
        elif roll < 0.6 and self.running:
            await self._extend(self.running.pop(chance.randrange(len(self.running))))
        elif roll < 0.75 and self.running:
            await self._stop(self.running.pop(chance.randrange(len(self.running))))
        else:
            await self._top_up(chance.choice(self.customers))

    async def _start(self, station_id: str) -> None:
        body = {"station_id": station_id, "duration_minutes": MINUTES, "payment_method": "CASH"}
        outcome = await self._call("start", station_id, "POST", "/sessions/start", body)
        if outcome.status == 201:
            self.running.append((outcome.body["id"], station_id))
        else:
            self.free.append(station_id)

    async def _extend(self, session: tuple[str, str]) -> None:
        body = {"additional_minutes": EXTRA_MINUTES, "payment_method": "CASH"}
        await self._call("extend", session[0], "PUT", f"/sessions/{session[0]}/extend", body)
        self.running.append(session)

    async def _stop(self, session: tuple[str, str]) -> None:
        outcome = await self._call("stop", session[0], "DELETE", f"/sessions/{session[0]}", None)
        if outcome.status == 200:
            self.free.append(session[1])
        else:
            self.running.append(session)

    async def _top_up(self, customer: str) -> None:
        body = {"amount": TOP_UP, "method": "CASH"}
        await self._call("topup", customer, "POST", f"/users/{customer}/topups", body)

    async def _call(
        self, op: str, target: str, method: str, path: str, body: dict[str, Any] | None
    ) -> Outcome:
        began = asyncio.get_running_loop().time()
        try:
            response = await self.admin.request(method, f"{API}{path}", json=body)
        except httpx.TimeoutException:
            response = None  # no answer at all: a defect the checks report (status 0)
        took = asyncio.get_running_loop().time() - began
        if response is None:
            outcome = Outcome(op, target, 0, {"detail": "no answer"}, took, began)
        else:
            outcome = Outcome(op, target, response.status_code, _json(response), took, began)
        self.outcomes.append(outcome)
        return outcome

    # --- afterwards -----------------------------------------------------------------------

    def ok(self, op: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.op == op and 200 <= o.status < 300]

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not 200 <= o.status < 300]

    async def drained(self, timeout: float = 60) -> None:
        """The outbox has sent everything committed."""
        client = self.server.client()

        async def waiting() -> object:
            return (await client.get("/health")).json().get("outbox", {}).get("waiting")

        await eventually(waiting, lambda left: left == 0, timeout)

    async def check_database(self, database_url: str) -> None:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as db:
                await self._check_sessions(db)
                await self._check_money(db)
        finally:
            await engine.dispose()

    async def _check_sessions(self, db: Any) -> None:
        rows = {str(s.id): s for s in (await db.execute(select(GameSession))).all()}
        started = {o.body["id"] for o in self.ok("start")}
        assert set(rows) == started, "sessions in the database != sessions answered 2xx"
        extended = Counter(o.target for o in self.ok("extend"))
        stopped = {o.target for o in self.ok("stop")}
        for session_id, row in rows.items():
            assert row.extended_minutes == extended[session_id] * EXTRA_MINUTES, session_id
            assert (row.status.value == "STOPPED") == (session_id in stopped), session_id

    async def _check_money(self, db: Any) -> None:
        answered = [o.body["payment"]["id"] for o in self.ok("start") + self.ok("extend")]
        answered += [o.body["payment"]["id"] for o in self.ok("topup")]
        payments = {str(p) for p in (await db.scalars(select(Payment.id))).all()}
        assert payments == set(answered), "payments in the database != payments answered 2xx"
        topped = Counter(o.target for o in self.ok("topup"))
        for customer in self.customers:
            balance = await db.scalar(select(User.balance).where(User.id == uuid.UUID(customer)))
            assert balance == topped[customer] * TOP_UP, customer

    async def check_agents(self, timeout: float = 30) -> None:
        """Each agent got a command for each change on its station, once."""
        expected: Counter[tuple[str, str, str]] = Counter()
        station_of = {o.body["id"]: o.target for o in self.ok("start")}
        for o in self.ok("start"):
            expected[(o.target, "session_start", o.body["id"])] += 1
        for o in self.ok("extend"):
            expected[(station_of[o.target], "session_extended", o.target)] += 1
        for o in self.ok("stop"):
            expected[(station_of[o.target], "session_end", o.target)] += 1

        async def received() -> Counter[tuple[str, str, str]]:
            return Counter(
                (station_id, payload.TYPE, str(getattr(payload, "id", "")))
                for station_id, agent in self.agents.items()
                for _, payload in agent.received
                if isinstance(payload, SessionStart | SessionExtended | SessionEnd)
            )

        await eventually(received, lambda got: got == expected, timeout)

    async def check_feeds(self, database_url: str, timeout: float = 30) -> None:
        """Each dashboard saw every event written since it connected, once; a station's
        events in the order they happened. (Events of unrelated changes committed at the
        same moment may arrive in either order, as their ids on PostgreSQL may.)"""
        engine = create_engine(database_url)
        try:
            async with engine.connect() as db:
                since = min(feed.last_event_id for feed in self.feeds)
                query = select(Event.id, Event.station_id, Event.type).where(Event.id > since)
                rows = (await db.execute(query.order_by(Event.id))).all()
        finally:
            await engine.dispose()
        station_of = {row.id: row.station_id for row in rows}
        type_of = {row.id: row.type for row in rows}
        for feed in self.feeds:
            want = sorted(i for i in station_of if i > feed.last_event_id)

            async def seen(feed: DashboardFeed = feed) -> list[int]:
                return [i for i in feed.ids() if i > feed.last_event_id]

            got = await eventually(seen, lambda ids, want=want: sorted(ids) == want, timeout)
            assert len(got) == len(set(got)), "an event was shown twice"
            for station in {s for s in station_of.values() if s is not None}:
                of_station = [i for i in got if station_of[i] == station]
                late = [
                    (a, type_of[a], b, type_of[b])
                    for a, b in itertools.pairwise(of_station)
                    if a > b
                ]
                assert not late, f"station {station}: events out of order {late}"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return {"text": response.text}
    return body


async def _read_forever(agent: ScriptedAgent) -> None:
    with contextlib.suppress(Exception):
        while True:
            await agent.next(timeout=3600)
