"""Reservations suites: a deposit of 5.00, held 15 minutes ahead, no-show after 10."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gameops.server.settings import Settings
from tests.support.live_server import LiveServer
from tests.support.money import create_customer, top_up

DEPOSIT = 500
RATE = 3600  # per hour: one minor unit a second
PIN = "2468"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "reservation_deposit": DEPOSIT,
            "reservation_notice_minutes": 15,
            "reservation_no_show_minutes": 10,
            "reservation_poll_seconds": 3600,  # the tests tick the worker with their own clock
            "venue_name": "Pixel Lounge",
            "play_block_seconds": 60,  # at 36.00/h (RATE) a block costs 0.60
        }
    )


_test_started: datetime | None = None


@pytest.fixture(autouse=True)
def _one_now_per_test() -> Iterator[None]:
    """Every ``at`` of a test counts from the same minute.

    Read afresh at each call, ``at(2)`` and a later ``at(1)`` could straddle a minute and
    make a back-to-back booking overlap by one (it failed so once in CI).
    """
    global _test_started
    _test_started = datetime.now(UTC).replace(second=0, microsecond=0)
    yield
    _test_started = None


def at(hours: float) -> datetime:
    """A moment ``hours`` from the test's start, on a whole minute."""
    assert _test_started is not None, "at() is for the reservations tests, inside a test"
    return _test_started + timedelta(hours=hours)


async def member(
    live_server: LiveServer, admin: httpx.AsyncClient, balance: int, name: str = "Ada Player"
) -> tuple[dict[str, Any], httpx.AsyncClient]:
    """A funded customer and an API client logged in as them."""
    customer = await create_customer(
        admin, username=f"m-{uuid.uuid4().hex[:6]}", pin=PIN, full_name=name
    )
    if balance:
        assert (await top_up(admin, customer["id"], balance)).status_code == 201
    client = live_server.client(await live_server.login(customer["username"], PIN))
    return customer, client


async def pc(admin: httpx.AsyncClient, name: str, zone: str | None = None) -> str:
    body = {"name": name, "type": "PC", "hourly_rate": RATE, "zone": zone}
    response = await admin.post("/api/v1/stations", json=body)
    assert response.status_code == 201, response.text
    station_id: str = response.json()["id"]
    return station_id


async def book(
    client: httpx.AsyncClient, starts_at: datetime, minutes: int = 60, **where: Any
) -> httpx.Response:
    body = {"starts_at": starts_at.isoformat(), "minutes": minutes, **where}
    return await client.post("/api/v1/reservations", json=body)
