"""Console stations end to end: the real server drives simulated Shelly plugs and a MikroTik
router over loopback, through aioshelly, our Gen1 client and librouteros."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, insert, select

from gameops.protocol import utc_now
from gameops.server.db.engine import create_engine
from gameops.server.db.models import GameSession, Payment, PowerSample, Station
from gameops.server.settings import Settings
from gameops.sim.routeros import RouterOsSimulator
from gameops.sim.shelly import ShellySimulator
from tests.support.live_server import LiveServer, server_settings
from tests.support.sessions import end_soon, start_session

API = "/api/v1"
MAC = "AA:BB:CC:00:00:01"
CONSOLE_IP = "127.0.0.77"  # stored in the simulated address list only; never contacted
GRACE = 0.6
MARGIN = 5


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return server_settings(
        database_url,
        tmp_path / "data",
        console_power_grace_seconds=GRACE,
        plug_timer_margin_seconds=MARGIN,
        router_timeout_margin_seconds=MARGIN,
        device_timeout_seconds=0.5,
        device_retries=1,
        device_backoff_seconds=0.05,
        device_breaker_reset_seconds=0.5,
        # The loops are driven by hand here, except where a test shortens them itself.
        device_reconcile_seconds=3600,
        power_sample_seconds=3600,
    )


@pytest.fixture
async def plug1() -> AsyncIterator[ShellySimulator]:
    sim = ShellySimulator(gen=1, username="admin", password="plug-pass")
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def plug2() -> AsyncIterator[ShellySimulator]:
    sim = ShellySimulator(gen=2, password="plug-pass")
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def router() -> AsyncIterator[RouterOsSimulator]:
    sim = RouterOsSimulator(password="router-pass")
    await sim.start()
    yield sim
    await sim.stop()


def shelly_config(sim: ShellySimulator, password: str | None = "plug-pass") -> dict[str, Any]:
    config: dict[str, Any] = {"host": "127.0.0.1", "port": sim.port, "generation": sim.gen}
    if sim.gen == 1:
        config["username"] = "admin"
    if password is not None:
        config["password"] = password
    return config


def mikrotik_config(sim: RouterOsSimulator, ip: str | None = CONSOLE_IP) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": sim.port,
        "tls": False,
        "username": "admin",
        "password": "router-pass",
        "console_mac": MAC,
        "console_ip": ip,
    }


async def console(admin: httpx.AsyncClient, **controller: Any) -> dict[str, Any]:
    body = {
        "name": f"PS5-{uuid.uuid4().hex[:6]}",
        "type": "CONSOLE",
        "hourly_rate": 800,
        "controller": controller,
    }
    response = await admin.post(f"{API}/stations", json=body)
    assert response.status_code == 201, response.text
    station: dict[str, Any] = response.json()
    return station


async def events(admin: httpx.AsyncClient, station_id: str, kind: str) -> list[dict[str, Any]]:
    response = await admin.get(
        f"{API}/events", params={"station_id": station_id, "type": kind, "per_page": 100}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def watch(server: LiveServer) -> Any:
    return server.services.console_watch


def allowed(sim: RouterOsSimulator) -> list[dict[str, str]]:
    return [
        r for r in sim.state.rows("/ip/firewall/address-list") if r["list"] == "gameops-playing"
    ]


# --- configuration -------------------------------------------------------------------


async def test_device_passwords_are_encrypted_and_never_returned(
    live_server: LiveServer, admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug1))
    assert station["controller"]["shelly"] == {
        "host": "127.0.0.1",
        "port": plug1.port,
        "generation": 1,
        "username": "admin",
    }
    assert "plug-pass" not in (await admin.get(f"{API}/stations/{station['id']}")).text
    assert "plug-pass" not in (await admin.get(f"{API}/stations")).text
    engine = create_engine(live_server.settings.database_url)
    async with engine.connect() as connection:
        row = (await connection.execute(select(Station.controller_secret))).scalar_one()
    await engine.dispose()
    assert row and "plug-pass" not in row
    # A change that leaves the password out keeps it: the plug still accepts us.
    changed = {"shelly": shelly_config(plug1, password=None)}
    response = await admin.patch(f"{API}/stations/{station['id']}", json={"controller": changed})
    assert response.status_code == 200, response.text
    await start_session(admin, station["id"], minutes=10)
    assert plug1.relay.on


async def test_the_device_key_is_generated_in_the_data_dir(live_server: LiveServer) -> None:
    key_file = live_server.settings.data_dir / "device_key"
    assert key_file.exists() and len(key_file.read_text()) > 40


async def test_only_consoles_take_a_controller(
    admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    controller = {"shelly": shelly_config(plug1)}
    body = {"name": "PC-X", "type": "PC", "hourly_rate": 600, "controller": controller}
    assert (await admin.post(f"{API}/stations", json=body)).status_code == 422


# --- Shelly plugs ----------------------------------------------------------------------


@pytest.mark.parametrize("gen", [1, 2])
async def test_shelly_start_extend_stop_expire(
    gen: int,
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    plug1: ShellySimulator,
    plug2: ShellySimulator,
) -> None:
    plug = plug1 if gen == 1 else plug2
    station = await console(admin, shelly=shelly_config(plug))
    session = await start_session(admin, station["id"], minutes=10)
    assert plug.relay.on
    # The dead-man: the plug turns itself off at the session's end plus the margin.
    assert 600 < plug.relay.timer_remaining <= 600 + MARGIN + 1
    extended = await admin.put(
        f"{API}/sessions/{session['id']}/extend", json={"additional_minutes": 5}
    )
    assert extended.status_code == 200, extended.text
    assert 900 < plug.relay.timer_remaining <= 900 + MARGIN + 1

    stopped = await admin.delete(f"{API}/sessions/{session['id']}")
    assert stopped.status_code == 200, stopped.text
    assert plug.relay.on, "the power stays on during the grace"
    (announced,) = await events(admin, station["id"], "CONSOLE_POWER_OFF_SCHEDULED")
    assert announced["data"]["grace_seconds"] == GRACE
    await eventually(lambda: not plug.relay.on)
    await eventually(lambda: events(admin, station["id"], "CONSOLE_POWER_OFF"))

    second = await start_session(admin, station["id"], minutes=10)
    assert plug.relay.on
    await end_soon(live_server, str(second["id"]), 0.2)
    await eventually(lambda: events(admin, station["id"], "SESSION_EXPIRED"))
    assert plug.relay.on
    await eventually(lambda: not plug.relay.on)


async def test_a_new_session_within_the_grace_keeps_the_power(
    admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug1))
    first = await start_session(admin, station["id"], minutes=10)
    await admin.delete(f"{API}/sessions/{first['id']}")
    await start_session(admin, station["id"], minutes=10)
    await asyncio.sleep(GRACE + 0.4)
    assert plug1.relay.on


async def test_plug_dead_at_start_is_502_and_nothing_is_charged(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    dead = ShellySimulator(gen=1)
    await dead.start()
    port = dead.port
    await dead.stop()  # nothing listens there now
    station = await console(admin, shelly={"host": "127.0.0.1", "port": port, "generation": 1})
    response = await admin.post(
        f"{API}/sessions/start", json={"station_id": station["id"], "duration_minutes": 30}
    )
    assert response.status_code == 502, response.text
    assert f"Shelly plug 127.0.0.1:{port}" in response.json()["detail"]
    assert station["name"] in response.json()["detail"]
    engine = create_engine(live_server.settings.database_url)
    async with engine.connect() as connection:
        assert (
            await connection.execute(select(func.count()).select_from(GameSession))
        ).scalar() == 0
        assert (await connection.execute(select(func.count()).select_from(Payment))).scalar() == 0
    await engine.dispose()

    # The failure is on record and on the station; it clears once the plug answers.
    await live_server.services.consoles.health.drain()
    (error,) = await events(admin, station["id"], "DEVICE_ERROR")
    assert error["data"]["device"] == f"Shelly plug 127.0.0.1:{port}"
    current = (await admin.get(f"{API}/stations/{station['id']}")).json()
    assert current["status"] == "ERROR"
    revived = ShellySimulator(gen=1, port=port)
    await revived.start()
    try:
        await asyncio.sleep(0.6)  # the breaker's reset time
        await watch(live_server).reconcile()
        await live_server.services.consoles.health.drain()
        current = (await admin.get(f"{API}/stations/{station['id']}")).json()
        assert current["status"] == "ONLINE"
        assert await events(admin, station["id"], "DEVICE_RECOVERED")
        session = await start_session(admin, station["id"], minutes=10)
        assert revived.relay.on and session["status"] == "ACTIVE"
    finally:
        await revived.stop()


async def test_button_pressed_mid_idle_is_switched_off_by_reconciliation(
    database_url: str, tmp_path: Path, plug2: ShellySimulator
) -> None:
    settings = server_settings(database_url, tmp_path / "data", device_reconcile_seconds=0.2)
    server = LiveServer(settings)
    await server.start()
    try:
        admin = await server.admin_client()
        station = await console(admin, shelly=shelly_config(plug2))
        plug2.press_button()
        assert plug2.relay.on
        await eventually(lambda: not plug2.relay.on)
        # Written once the plug has answered, a moment after it switched.
        await eventually(lambda: events(admin, station["id"], "DEVICE_RECONCILED"))
        fixed = await events(admin, station["id"], "DEVICE_RECONCILED")
        assert {e["data"]["action"] for e in fixed} == {"power off"}
    finally:
        await server.close()


async def test_plug_switched_off_during_a_session_is_switched_back_on(
    live_server: LiveServer, admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug1))
    await start_session(admin, station["id"], minutes=10)
    plug1.press_button()
    assert not plug1.relay.on
    await watch(live_server).reconcile()
    assert plug1.relay.on and plug1.relay.timer_remaining > 500


async def test_power_is_sampled_shown_and_kept_30_days(
    live_server: LiveServer, admin: httpx.AsyncClient, plug2: ShellySimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug2))
    await start_session(admin, station["id"], minutes=10)
    await asyncio.sleep(0.2)
    month_ago = utc_now() - timedelta(days=31)
    engine = create_engine(live_server.settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(PowerSample).values(
                station_id=uuid.UUID(station["id"]), sampled_at=month_ago, watts=1.0, relay_on=True
            )
        )
    await watch(live_server).sample_power()
    shown = (await admin.get(f"{API}/stations/{station['id']}")).json()
    assert shown["relay_on"] is True and shown["power_watts"] > 0 and shown["power_at"]
    async with engine.connect() as connection:
        rows = (await connection.execute(select(PowerSample.watts, PowerSample.relay_on))).all()
    await engine.dispose()
    assert len(rows) == 1 and rows[0].relay_on and rows[0].watts > 1.0
    history = (await admin.get(f"{API}/stations/{station['id']}/power")).json()
    assert [(h["relay_on"], h["watts"] > 1.0) for h in history] == [(True, True)]


async def test_a_dead_plug_does_not_slow_the_other_stations(
    live_server: LiveServer, admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    """The breaker, not the clock: once open, a sale on the dead plug's station is refused
    without calling the plug at all, and the other station's sale goes through meanwhile.
    (How fast is in the consoles bench; timing on a shared CI machine proves nothing.)"""
    hanging = ShellySimulator(gen=1, fault="timeout")
    await hanging.start()
    try:
        bad = await console(admin, shelly={"host": "127.0.0.1", "port": hanging.port})
        good = await console(admin, shelly=shelly_config(plug1))
        sale = {"station_id": bad["id"], "duration_minutes": 5}
        assert (await admin.post(f"{API}/sessions/start", json=sale)).status_code == 502
        for _ in range(2):  # the breaker opens after three failed calls ...
            await watch(live_server).reconcile()
        calls = hanging.requests
        refused = await admin.post(f"{API}/sessions/start", json=sale)
        assert refused.status_code == 502 and "detail" in refused.json()
        assert hanging.requests == calls  # ... and then the plug is not even asked
        await start_session(admin, good["id"], minutes=5)
        assert plug1.relay.on
    finally:
        await hanging.stop()


# --- MikroTik routers ----------------------------------------------------------------


async def test_mikrotik_start_extend_stop_expire(
    live_server: LiveServer, admin: httpx.AsyncClient, router: RouterOsSimulator
) -> None:
    station = await console(admin, mikrotik=mikrotik_config(router))
    await watch(live_server).reconcile()  # start-up: every managed console is blocked
    (rule,) = router.state.rows("/ip/firewall/filter")
    assert rule["src-mac-address"] == MAC and rule["action"] == "drop"
    assert allowed(router) == []

    session = await start_session(admin, station["id"], minutes=10)
    (entry,) = allowed(router)
    assert entry["address"] == CONSOLE_IP and 600 <= int(entry["timeout"][:-1]) <= 600 + MARGIN + 1
    extended = await admin.put(
        f"{API}/sessions/{session['id']}/extend", json={"additional_minutes": 5}
    )
    assert extended.status_code == 200, extended.text
    (entry,) = allowed(router)
    assert int(entry["timeout"][:-1]) > 900
    await admin.delete(f"{API}/sessions/{session['id']}")
    assert allowed(router) == []  # blocked at once, no grace for the network

    second = await start_session(admin, station["id"], minutes=10)
    assert len(allowed(router)) == 1
    await end_soon(live_server, str(second["id"]), 0.2)
    await eventually(lambda: allowed(router) == [])
    assert len(router.state.rows("/ip/firewall/filter")) == 1


async def test_console_ip_from_the_routers_dhcp_lease(
    admin: httpx.AsyncClient, router: RouterOsSimulator
) -> None:
    router.add_lease(MAC, "127.0.0.88")
    station = await console(admin, mikrotik=mikrotik_config(router, ip=None))
    await start_session(admin, station["id"], minutes=10)
    (entry,) = allowed(router)
    assert entry["address"] == "127.0.0.88"


async def test_router_rebooted_empty_gets_its_rules_back(
    live_server: LiveServer, admin: httpx.AsyncClient, router: RouterOsSimulator
) -> None:
    playing = await console(admin, mikrotik=mikrotik_config(router))
    idle_config = {**mikrotik_config(router), "console_mac": "AA:BB:CC:00:00:02"}
    await console(admin, mikrotik=idle_config)
    await start_session(admin, playing["id"], minutes=10)
    port = router.port
    await router.stop()
    rebooted = RouterOsSimulator(port=port, password="router-pass")
    await rebooted.start()
    try:
        await watch(live_server).reconcile()
        macs = {r["src-mac-address"] for r in rebooted.state.rows("/ip/firewall/filter")}
        assert macs == {MAC, "AA:BB:CC:00:00:02"}
        (entry,) = allowed(rebooted)
        assert entry["address"] == CONSOLE_IP
        restored = await events(admin, playing["id"], "DEVICE_RECONCILED")
        assert {e["data"]["action"] for e in restored} == {"rule restored", "unblock"}
    finally:
        await rebooted.stop()


async def test_router_errors_set_the_station_to_error_until_it_answers(
    live_server: LiveServer, admin: httpx.AsyncClient, router: RouterOsSimulator
) -> None:
    station = await console(admin, mikrotik=mikrotik_config(router))
    router.fault = "error"
    response = await admin.post(
        f"{API}/sessions/start", json={"station_id": station["id"], "duration_minutes": 5}
    )
    assert response.status_code == 502 and "MikroTik router" in response.json()["detail"]
    await live_server.services.consoles.health.drain()
    assert (await admin.get(f"{API}/stations/{station['id']}")).json()["status"] == "ERROR"
    router.fault = "none"
    await watch(live_server).reconcile()
    await live_server.services.consoles.health.drain()
    assert (await admin.get(f"{API}/stations/{station['id']}")).json()["status"] == "ONLINE"


# --- both: network at once, power after the grace --------------------------------------


async def test_plug_and_router_end_gently(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    plug2: ShellySimulator,
    router: RouterOsSimulator,
) -> None:
    station = await console(admin, shelly=shelly_config(plug2), mikrotik=mikrotik_config(router))
    session = await start_session(admin, station["id"], minutes=10)
    assert plug2.relay.on and len(allowed(router)) == 1
    await end_soon(live_server, str(session["id"]), 0.1)
    await eventually(lambda: allowed(router) == [])
    assert plug2.relay.on
    await eventually(lambda: not plug2.relay.on)


async def test_router_down_at_start_leaves_the_plug_off(
    admin: httpx.AsyncClient, plug2: ShellySimulator, router: RouterOsSimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug2), mikrotik=mikrotik_config(router))
    router.fault = "timeout"
    response = await admin.post(
        f"{API}/sessions/start", json={"station_id": station["id"], "duration_minutes": 5}
    )
    assert response.status_code == 502
    assert not plug2.relay.on


# --- the live feed ---------------------------------------------------------------------


async def _feed_until(feed: Any, wanted: set[str]) -> list[dict[str, Any]]:
    """Events off the feed until one of each ``wanted`` kind (a status: ``STATUS->TO``)."""
    seen: list[dict[str, Any]] = []

    def kinds() -> set[str]:
        statuses = {f"STATUS->{e['data'].get('to')}" for e in seen}
        return {e["type"] for e in seen} | statuses

    while not wanted <= kinds():
        message = json.loads(await asyncio.wait_for(feed.recv(), 5))
        seen.append(message["event"])
    return seen


async def test_grace_and_device_errors_are_on_the_live_feed(
    live_server: LiveServer, admin: httpx.AsyncClient, plug1: ShellySimulator
) -> None:
    station = await console(admin, shelly=shelly_config(plug1))
    session = await start_session(admin, station["id"], minutes=10)
    url = f"{live_server.ws_url}/ws/dashboard?token={await live_server.login()}"
    async with websockets.connect(url) as feed:
        assert json.loads(await feed.recv())["type"] == "hello"
        await admin.delete(f"{API}/sessions/{session['id']}")
        seen = await _feed_until(feed, {"CONSOLE_POWER_OFF_SCHEDULED", "CONSOLE_POWER_OFF"})
        scheduled = next(e for e in seen if e["type"] == "CONSOLE_POWER_OFF_SCHEDULED")
        assert scheduled["station_id"] == station["id"] and scheduled["data"]["power_off_at"]

        plug1.fault = "error"
        plug1.press_button()
        await watch(live_server).reconcile()
        await _feed_until(feed, {"DEVICE_ERROR", "STATUS->ERROR"})

        plug1.fault = "none"
        await watch(live_server).reconcile()
        await _feed_until(feed, {"DEVICE_RECOVERED", "DEVICE_RECONCILED", "STATUS->ONLINE"})
    # The feed's handler notices a closed client only at its next event (server shutdown
    # waits for it): give it one.
    await admin.post(f"{API}/stations", json={"name": "PC-after", "type": "PC", "hourly_rate": 1})
