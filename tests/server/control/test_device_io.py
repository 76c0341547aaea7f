"""No device I/O inside a database transaction (issue 11 §1): a console's devices are
switched on before the sale's transaction and off again if it does not commit; they are
switched off after the commit that ends a session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.sessions.events import SessionStarted
from gameops.server.settings import Settings
from gameops.sim.shelly import ShellySimulator
from tests.support.live_server import LiveServer, server_settings
from tests.support.waiting import eventually

API = "/api/v1"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return server_settings(
        database_url,
        tmp_path / "data",
        # Longer than any test here waits: a held device call ends when the test says so.
        device_timeout_seconds=60,
        device_retries=0,
        console_power_grace_seconds=0,
        device_reconcile_seconds=3600,
        power_sample_seconds=3600,
    )


@pytest.fixture
async def plug() -> AsyncIterator[ShellySimulator]:
    sim = ShellySimulator(gen=1)
    await sim.start()
    yield sim
    await sim.stop()


async def _console(admin: httpx.AsyncClient, plug: ShellySimulator) -> dict[str, Any]:
    shelly = {"host": "127.0.0.1", "port": plug.port, "generation": 1}
    body = {"name": f"PS5-{uuid.uuid4().hex[:6]}", "type": "CONSOLE", "hourly_rate": 800}
    response = await admin.post(f"{API}/stations", json={**body, "controller": {"shelly": shelly}})
    assert response.status_code == 201, response.text
    station: dict[str, Any] = response.json()
    return station


def _start(admin: httpx.AsyncClient, station_id: str) -> Any:
    return admin.post(
        f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 30}
    )


async def test_no_transaction_waits_on_a_console_device(
    live_server: LiveServer, admin: httpx.AsyncClient, plug: ShellySimulator
) -> None:
    station = await _console(admin, plug)
    plug.fault = "timeout"  # the plug takes the request and never answers
    sale = asyncio.create_task(_start(admin, station["id"]))
    await eventually(lambda: _requests(plug), lambda n: n >= 1)
    # The sale is waiting on the plug (for as long as the test needs: its device timeout is
    # a minute). Its station row is not locked meanwhile (nor, on SQLite, the one
    # connection): staff can still change the station, and sell a PC.
    edited = await admin.patch(f"{API}/stations/{station['id']}", json={"zone": "lounge"})
    assert edited.status_code == 200, edited.text
    pc = await admin.post(f"{API}/stations", json={"name": "PC-1", "type": "PC", "hourly_rate": 1})
    sold = await _start(admin, pc.json()["id"])
    assert sold.status_code == 201, sold.text
    assert not sale.done(), "the device call was over before the others could go on"
    await plug.stop()  # the plug goes away mid-request: the sale fails, nothing is sold
    refused = await sale
    assert refused.status_code == 502, refused.text
    sessions = (await admin.get(f"{API}/sessions", params={"station_id": station["id"]})).json()
    assert sessions["meta"]["total"] == 0


async def test_a_sale_that_does_not_commit_switches_the_console_off_again(
    live_server: LiveServer, admin: httpx.AsyncClient, plug: ShellySimulator
) -> None:
    station = await _console(admin, plug)

    async def commit_fails(db: AsyncSession, event: SessionStarted) -> None:
        raise RuntimeError("the commit did not happen")

    live_server.services.dispatcher.handle(SessionStarted, commit_fails)
    failed = await _start(admin, station["id"])
    assert failed.status_code == 500
    assert plug.requests >= 1  # it was switched on before the transaction...
    assert not plug.relay.on  # ...and off again when the sale did not commit
    sessions = (await admin.get(f"{API}/sessions", params={"station_id": station["id"]})).json()
    assert sessions["meta"]["total"] == 0


async def test_a_refused_second_sale_leaves_the_running_one_powered(
    live_server: LiveServer, admin: httpx.AsyncClient, plug: ShellySimulator
) -> None:
    station = await _console(admin, plug)
    first, second = await asyncio.gather(_start(admin, station["id"]), _start(admin, station["id"]))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    assert plug.relay.on


async def _requests(plug: ShellySimulator) -> int:
    return plug.requests
