"""The chaos test (issue 11 §1): Redis or PostgreSQL cut for a while under steady traffic
(starts, extends, stops, top-ups, agents and dashboards connected). Afterwards every 2xx is
in the database exactly once, every non-2xx is not there at all, every agent has its
commands and every dashboard saw every event, once. ``bench/chaos.py`` runs longer cuts."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.chaos import Venue
from tests.support.databases import PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT, require_service
from tests.support.live_server import LiveServer, production_logging, server_settings
from tests.support.proxy import TcpProxy

CUT_SECONDS = float(os.environ.get("GAMEOPS_CHAOS_SECONDS", "10"))
BEFORE, AFTER = 2.0, 3.0  # traffic on either side of the cut


@pytest.fixture
async def proxies() -> AsyncIterator[dict[str, TcpProxy]]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    proxies = {"redis": TcpProxy(REDIS_HOST, REDIS_PORT), "postgres": TcpProxy(PG_HOST, PG_PORT)}
    for proxy in proxies.values():
        await proxy.start()
    yield proxies
    for proxy in proxies.values():
        await proxy.close()


@pytest.fixture
async def server(
    database_url: str, tmp_path: Path, proxies: dict[str, TcpProxy]
) -> AsyncIterator[LiveServer]:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(port=proxies["postgres"].port)
    settings = server_settings(
        url.render_as_string(hide_password=False),
        tmp_path / "data",
        device_key=uuid.uuid4().hex,  # replicas must share their keys
        redis_url=proxies["redis"].url("redis", "/0"),
        redis_prefix=f"chaos-{uuid.uuid4().hex[:8]}:",
        heartbeat_interval_seconds=3600,  # commands must arrive by themselves
    )
    with production_logging():
        live = LiveServer(settings)
        await live.start()
        yield live
        await live.close()


async def _cut_under_traffic(venue: Venue, proxy: TcpProxy) -> None:
    traffic = asyncio.create_task(venue.traffic(BEFORE + CUT_SECONDS + AFTER))
    await asyncio.sleep(BEFORE)  # the scenario's timeline, not a wait for a result
    await proxy.cut()
    await asyncio.sleep(CUT_SECONDS)
    proxy.restore()
    await traffic


async def _check(venue: Venue, database_url: str) -> None:
    await venue.drained()
    await venue.check_database(database_url)
    await venue.check_agents()
    await venue.check_feeds(database_url)


async def test_redis_cut_fails_no_request_and_loses_no_message(
    server: LiveServer, proxies: dict[str, TcpProxy], database_url: str
) -> None:
    venue = await Venue.open(server)
    try:
        await _cut_under_traffic(venue, proxies["redis"])
        assert venue.failed() == []  # a bus outage fails no request
        assert len(venue.ok("start")) > 0 and len(venue.ok("topup")) > 0
        await _check(venue, database_url)
    finally:
        await venue.close()


@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgres_cut_answers_503_and_keeps_every_answer_true(
    server: LiveServer, proxies: dict[str, TcpProxy], database_url: str
) -> None:
    venue = await Venue.open(server)
    try:
        await _cut_under_traffic(venue, proxies["postgres"])
        refused = venue.failed()
        assert refused, "the cut hit no request"
        assert {o.status for o in refused} == {503}, [(o.op, o.status, o.body) for o in refused]
        assert all(isinstance(o.body.get("detail"), str) for o in refused)
        assert len(venue.ok("start")) > 0 and len(venue.ok("topup")) > 0
        await _check(venue, database_url)
    finally:
        await venue.close()
