"""Admission control: a storm of agent handshakes is told to come back later, at once and
spread out, instead of queueing until the handshakes time out."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
import websockets
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed

from gameops.protocol import CloseCode, ServerHello
from gameops.protocol.close_codes import retry_after, retry_reason
from gameops.server.realtime.admission import (
    JITTER_SECONDS,
    MAX_DELAY_SECONDS,
    OVERFLOW_SECONDS,
    TARGET_SECONDS,
    UNMEASURED_RECONNECTS_PER_SECOND,
    Admission,
)
from gameops.sim.fleet import SimStation, simulated_agent
from tests.support.databases import PG_HOST, PG_PORT
from tests.support.live_server import LiveServer, production_logging, server_settings
from tests.support.proxy import TcpProxy
from tests.support.waiting import eventually


def test_the_close_reason_carries_the_delay_both_ways() -> None:
    assert retry_after(retry_reason("server busy", 4.24)) == 4.2
    assert retry_after("too many failed attempts; retry in 60 s") == 60
    assert retry_after("closed") is None and retry_after(None) is None


def test_refused_handshakes_get_return_times_one_handshake_apart() -> None:
    now = [0.0]
    gate = Admission(2, rng=random.Random(7), clock=lambda: now[0])
    assert gate.enter() is None and gate.enter() is None
    delays = [gate.enter() for _ in range(40)]
    assert gate.refused == 40 and gate.in_progress == 2
    # Two at once, a second each (before any has finished): one back every half second.
    assert all(d is not None and 1.0 <= d <= MAX_DELAY_SECONDS for d in delays)
    slots = [d - JITTER_SECONDS for d in delays if d is not None]
    assert min(delays) < 1.0 + JITTER_SECONDS and max(slots) <= 1.0 + 39 * 0.5
    assert max(delays) >= 1.0 + 39 * 0.5  # the last was booked twenty seconds out
    gate.leave()
    assert gate.enter() is None  # a finished handshake makes room at once


def test_as_many_are_let_in_as_finish_in_a_few_seconds_and_appointments_keep_pace() -> None:
    now = [0.0]
    gate = Admission(10, rng=random.Random(7), clock=lambda: now[0])
    assert gate.capacity == 10  # nothing measured yet: the configured minimum
    for _ in range(500):  # five seconds of handshakes finishing at a hundred a second
        assert gate.enter() is None
        now[0] += 0.01
        gate.leave()
    assert gate.measured_rate == pytest.approx(100, abs=1)
    assert gate.capacity == pytest.approx(100 * TARGET_SECONDS, abs=3)
    while gate.enter() is None:
        pass
    assert gate.in_progress == gate.capacity
    delays = [gate.enter() or 0.0 for _ in range(1000)]  # ten seconds of the server's work
    assert max(delays) <= 1.0 + 10 + JITTER_SECONDS
    assert sum(d < 6.0 for d in delays) == pytest.approx(500, abs=30)  # evenly spread


def test_a_storms_first_second_is_measured_as_a_second() -> None:
    now = [100.0]  # a quiet server: nothing finished in the last window
    gate = Admission(10, rng=random.Random(7), clock=lambda: now[0])
    for _ in range(300):  # the storm's first second: three hundred a second
        gate.enter()
        now[0] += 1 / 300
        gate.leave()
    assert gate.measured_rate == pytest.approx(300, rel=0.02)  # not 60: a fifth of the window
    assert gate.capacity == pytest.approx(300 * TARGET_SECONDS, rel=0.02)


def test_agents_are_sent_back_at_the_most_the_server_finished_a_second() -> None:
    now = [0.0]
    gate = Admission(10, rng=random.Random(7), clock=lambda: now[0])
    assert gate.reconnect_rate() == UNMEASURED_RECONNECTS_PER_SECOND  # nothing measured
    for _ in range(4000):  # ten seconds at 400 a second
        assert gate.enter() is None
        now[0] += 1 / 400
        gate.leave()
    for _ in range(600):  # then slower (a heavier load): the most it took still counts
        gate.enter()
        now[0] += 1 / 120
        gate.leave()
    assert gate.measured_rate == pytest.approx(120, abs=2)
    assert gate.reconnect_rate() == pytest.approx(400, abs=2)
    slow = Admission(10, rng=random.Random(7), clock=lambda: now[0])
    for _ in range(1000):  # a slow server: never spread out longer than unmeasured
        slow.enter()
        now[0] += 1 / 50
        slow.leave()
    assert slow.reconnect_rate() == UNMEASURED_RECONNECTS_PER_SECOND


def test_more_waiting_than_fits_comes_back_at_the_end_of_the_longest_delay() -> None:
    now = [0.0]
    gate = Admission(1, rng=random.Random(7), clock=lambda: now[0])
    assert gate.enter() is None
    delays = [gate.enter() or 0.0 for _ in range(200)]  # one a second: 54 fit
    assert all(1.0 <= d <= MAX_DELAY_SECONDS for d in delays)
    late = delays[60:]  # booked out: all at the end, not again and again meanwhile
    assert min(late) >= MAX_DELAY_SECONDS - OVERFLOW_SECONDS
    now[0] = 120.0  # the storm is over: a lone refusal comes back soon
    assert (gate.enter() or 0.0) <= 1.0 + JITTER_SECONDS


async def test_a_busy_server_turns_agents_away_and_they_come_back(
    database_url: str, tmp_path: Path
) -> None:
    server = LiveServer(
        server_settings(database_url, tmp_path / "data", agent_handshakes_at_once=1)
    )
    await server.start()
    try:
        station_id, token = await server.create_pc_station()
        url = f"{server.ws_url}/ws/agent/{station_id}"
        # A handshake in progress: connected, authentication not sent yet.
        holder = await websockets.connect(url)
        async with websockets.connect(url) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(refused.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CloseCode.TRY_AGAIN_LATER
        delay = retry_after(closed.value.rcvd.reason)
        assert delay is not None and 1.0 <= delay <= MAX_DELAY_SECONDS

        agent = simulated_agent(server.base_url, SimStation(station_id, "PC", token))
        running = asyncio.create_task(agent.run())
        await eventually(lambda: _async(agent.link.attempts), lambda n: n >= 1, timeout=10)
        await holder.close()  # the first handshake gives up: room for the agent's retry
        await eventually(lambda: _async(agent.link.connected), bool, timeout=40)
        assert agent.link.attempts >= 2  # turned away once, back after the given delay
        agent.stop()
        await asyncio.wait_for(running, 10)

        async with websockets.connect(f"{url}?token={token}") as later:
            assert json.loads(await later.recv())["type"] == ServerHello.TYPE
    finally:
        await server.close()


async def _async(value: object) -> object:
    return value


@pytest.mark.parametrize("backend", ["postgres"])  # the outage: a cut TCP connection
async def test_a_handshake_the_database_fails_is_told_to_come_back(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    await proxy.start()
    url = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    with production_logging():
        server = LiveServer(server_settings(url, tmp_path / "data"))
        await server.start()
        try:
            station_id, token = await server.create_pc_station()
            await proxy.cut()  # as a pool wait that timed out: the token check fails
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{server.ws_url}/ws/agent/{station_id}"
            async with websockets.connect(url, additional_headers=headers) as agent:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(agent.recv(), 30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CloseCode.TRY_AGAIN_LATER  # not an error
            assert 1.0 <= (retry_after(closed.value.rcvd.reason) or 0) <= MAX_DELAY_SECONDS
        finally:
            proxy.restore()
            await server.close()
            await proxy.close()
