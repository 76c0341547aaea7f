"""The Shelly drivers (our Gen1 client, aioshelly for Gen2) against the plug simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from gameops.devices.errors import DeviceAuthError, DeviceConnectionError, DeviceResponseError
from gameops.devices.shelly import ShellyPlug, create_plug
from gameops.sim.shelly import ShellySimulator


@pytest.fixture(params=[1, 2])
async def plug_pair(
    request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> AsyncIterator[tuple[ShellySimulator, ShellyPlug]]:
    sim = ShellySimulator(gen=request.param, username="admin", password="s3cret")
    await sim.start()
    plug = create_plug(
        http, request.param, "127.0.0.1", sim.port, username="admin", password="s3cret", timeout=1
    )
    yield sim, plug
    await plug.shutdown()
    await sim.stop()


async def test_on_off_and_power(plug_pair: tuple[ShellySimulator, ShellyPlug]) -> None:
    sim, plug = plug_pair
    assert (await plug.status()).on is False
    assert (await plug.turn_on()).on is True
    assert sim.relay.on
    await asyncio.sleep(0.3)
    first = (await plug.status()).watts
    await asyncio.sleep(0.3)
    second = (await plug.status()).watts
    assert first is not None and second is not None and 0 < first < second
    assert (await plug.turn_off()).on is False
    assert not sim.relay.on and (await plug.status()).watts == 0


async def test_auto_off_timer_switches_the_plug_off(
    plug_pair: tuple[ShellySimulator, ShellyPlug],
) -> None:
    _, plug = plug_pair
    status = await plug.turn_on(auto_off_seconds=1)
    assert status.on and status.timer_remaining and 0.5 < status.timer_remaining <= 1
    await asyncio.sleep(1.3)
    assert (await plug.status()).on is False


async def test_rearming_moves_the_timer(plug_pair: tuple[ShellySimulator, ShellyPlug]) -> None:
    _, plug = plug_pair
    await plug.turn_on(auto_off_seconds=1)
    await plug.turn_on(auto_off_seconds=30)
    await asyncio.sleep(1.3)
    assert (await plug.status()).on is True


@pytest.mark.parametrize("gen", [1, 2])
async def test_wrong_password_is_an_auth_error(gen: int, http: aiohttp.ClientSession) -> None:
    sim = ShellySimulator(gen=gen, username="admin", password="right")
    await sim.start()
    plug = create_plug(http, gen, "127.0.0.1", sim.port, username="admin", password="wrong")
    try:
        with pytest.raises(DeviceAuthError):
            await plug.turn_on()
        assert not sim.relay.on
    finally:
        await plug.shutdown()
        await sim.stop()


@pytest.mark.parametrize("gen", [1, 2])
async def test_a_plug_that_hangs_times_out(gen: int, http: aiohttp.ClientSession) -> None:
    sim = ShellySimulator(gen=gen, fault="timeout")
    await sim.start()
    plug = create_plug(http, gen, "127.0.0.1", sim.port, timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(DeviceConnectionError):
            await plug.turn_on()
        assert loop.time() - started < 1.5
    finally:
        await plug.shutdown()
        await sim.stop()


@pytest.mark.parametrize("gen", [1, 2])
async def test_a_plug_that_answers_errors(gen: int, http: aiohttp.ClientSession) -> None:
    sim = ShellySimulator(gen=gen, fault="error")
    await sim.start()
    plug = create_plug(http, gen, "127.0.0.1", sim.port, timeout=1)
    try:
        with pytest.raises(DeviceResponseError):
            await plug.turn_on()
    finally:
        await plug.shutdown()
        await sim.stop()


@pytest.mark.parametrize("gen", [1, 2])
async def test_nothing_listening_then_plug_comes_back(
    gen: int, http: aiohttp.ClientSession
) -> None:
    sim = ShellySimulator(gen=gen)
    await sim.start()
    port = sim.port
    await sim.stop()
    plug = create_plug(http, gen, "127.0.0.1", port, timeout=1)
    with pytest.raises(DeviceConnectionError):
        await plug.status()
    sim = ShellySimulator(gen=gen, port=port)
    await sim.start()
    try:
        assert (await plug.turn_on()).on is True
    finally:
        await plug.shutdown()
        await sim.stop()
