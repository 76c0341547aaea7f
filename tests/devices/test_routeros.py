"""The RouterOS driver (librouteros underneath) against the router simulator."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gameops.devices.errors import DeviceAuthError, DeviceConnectionError, DeviceResponseError
from gameops.devices.routeros import RouterOs
from gameops.server.tls import write_self_signed
from gameops.sim.routeros import RouterOsSimulator

MAC = "aa-bb-cc-00-11-22"
CONSOLE_IP = "127.0.0.50"  # only ever stored in the simulated list, never contacted


@pytest.fixture
async def sim() -> AsyncIterator[RouterOsSimulator]:
    router = RouterOsSimulator(password="pw")
    await router.start()
    yield router
    await router.stop()


@pytest.fixture
async def router(sim: RouterOsSimulator) -> AsyncIterator[RouterOs]:
    client = RouterOs("127.0.0.1", sim.port, username="admin", password="pw", timeout=1)
    yield client
    await client.shutdown()


async def test_rule_once_then_allow_and_block(sim: RouterOsSimulator, router: RouterOs) -> None:
    assert await router.ensure_rule(MAC) is True
    assert await router.ensure_rule(MAC) is False
    (rule,) = sim.state.rows("/ip/firewall/filter")
    assert rule["src-mac-address"] == "AA:BB:CC:00:11:22"
    assert rule["src-address-list"] == "!gameops-playing" and rule["action"] == "drop"
    assert await router.rules() == {"AA:BB:CC:00:11:22"}
    await router.allow(MAC, CONSOLE_IP, 60)
    await router.allow(MAC, CONSOLE_IP, 120)  # re-armed, not duplicated
    (entry,) = await router.allowed()
    assert entry.address == CONSOLE_IP and entry.mac == "AA:BB:CC:00:11:22"
    await router.block(MAC)
    assert await router.allowed() == []


async def test_allow_entries_expire_on_the_router(sim: RouterOsSimulator, router: RouterOs) -> None:
    await router.allow(MAC, CONSOLE_IP, 1)
    await asyncio.sleep(1.1)
    assert await router.allowed() == []


async def test_dhcp_lease_lookup(sim: RouterOsSimulator, router: RouterOs) -> None:
    sim.add_lease("AA:BB:CC:00:11:22", CONSOLE_IP)
    assert await router.lease_address(MAC) == CONSOLE_IP
    assert await router.lease_address("00:00:00:00:00:01") is None


async def test_wrong_password(sim: RouterOsSimulator) -> None:
    client = RouterOs("127.0.0.1", sim.port, username="admin", password="nope", timeout=1)
    with pytest.raises(DeviceAuthError):
        await client.ensure_rule(MAC)


async def test_router_that_hangs_times_out(sim: RouterOsSimulator, router: RouterOs) -> None:
    sim.fault = "timeout"
    started = asyncio.get_running_loop().time()
    with pytest.raises(DeviceConnectionError):
        await router.ensure_rule(MAC)
    assert asyncio.get_running_loop().time() - started < 2


async def test_router_that_answers_errors(sim: RouterOsSimulator, router: RouterOs) -> None:
    sim.fault = "error"
    with pytest.raises(DeviceResponseError):
        await router.block(MAC)


async def test_reconnects_after_a_reboot(sim: RouterOsSimulator, router: RouterOs) -> None:
    await router.ensure_rule(MAC)
    port = sim.port
    await sim.stop()
    with pytest.raises(DeviceConnectionError):
        await router.rules()
    rebooted = RouterOsSimulator(port=port, password="pw")
    await rebooted.start()
    try:
        assert await router.rules() == set()  # came back empty
        assert await router.ensure_rule(MAC) is True
    finally:
        await rebooted.stop()


async def test_api_ssl(tmp_path: Path) -> None:
    cert, key = write_self_signed(tmp_path, ["localhost"])
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    sim = RouterOsSimulator(password="pw", ssl_context=server_context)
    await sim.start()
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.check_hostname = False  # the router is addressed by IP
    client = RouterOs(
        "127.0.0.1", sim.port, username="admin", password="pw", ssl_context=client_context
    )
    try:
        assert await client.ensure_rule(MAC) is True
    finally:
        await client.shutdown()
        await sim.stop()
