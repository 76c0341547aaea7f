"""End to end: the real agent (service part, recording backend) against a real server over a
real WebSocket. Sessions are started, extended and stopped through the REST API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from gameops.agent.clock import Instant, SystemClock
from gameops.agent.control import SimulatedControl
from gameops.agent.effects import LogOff
from gameops.agent.link import Outcome
from gameops.agent.session import Phase
from gameops.protocol import utc_now
from gameops.protocol.agent_token import new_agent_token
from tests.agent.harness import (
    RunningAgent,
    agent_config,
    captured_events,
    wait_for_tamper,
    wait_until,
)
from tests.support.live_server import LiveServer
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually


async def connected_agent(
    live_server: LiveServer, tmp_path: Path, **config: object
) -> tuple[RunningAgent, str]:
    station_id, token = await live_server.create_pc_station("PC-E2E")
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token, **config),  # type: ignore[arg-type]
        tmp_path / "state.json",
    ).start()
    await wait_until(lambda: running.agent.link.connected)
    return running, station_id


def actions(control: SimulatedControl) -> list[str]:
    return control.names()


async def test_start_shows_the_countdown_and_extend_moves_it(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    assert running.mode() == "locked"
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    first = running.remaining()
    assert first is not None
    assert 1795 <= first <= 1800
    await wait_until(lambda: (running.remaining() or first) < first, seconds=3)  # counting down

    extended = await admin.put(
        f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 15}
    )
    assert extended.status_code == 200, extended.text
    await wait_until(lambda: (running.remaining() or 0) > 2600)
    assert 2690 <= (running.remaining() or 0) <= 2700
    assert running.agent.machine.view(running.agent.parts.clock.now()).message == "Time added!"
    assert "keep_awake" in actions(running.control)
    await running.stop()


async def test_manual_stop_locks_without_logging_off(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    locks_before = actions(running.control).count("lock_screen")
    stopped = await admin.delete(f"/api/v1/sessions/{session['id']}")
    assert stopped.status_code == 200, stopped.text
    await wait_until(lambda: running.mode() == "locked")
    assert actions(running.control).count("lock_screen") == locks_before + 1
    assert "log_off" not in actions(running.control)
    assert not (tmp_path / "state.json").exists()
    await running.stop()
    # Locked with no grace running: a minute on, past any grace, still no log-off.
    machine, now = running.agent.machine, running.agent.parts.clock.now()
    a_minute_on = Instant(now.steady + 60, now.wall + timedelta(seconds=60), now.boot)
    assert machine.phase is Phase.LOCKED
    assert not any(isinstance(effect, LogOff) for effect in machine.tick(a_minute_on))


async def test_server_expiry_gives_its_grace_then_locks_and_logs_off(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path, grace=30)
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    locks_before = actions(running.control).count("lock_screen")
    await end_soon(live_server, str(session["id"]), 0.3)
    await wait_until(lambda: running.mode() == "grace")
    assert actions(running.control).count("lock_screen") == locks_before  # time to save
    # The server's grace (1 s in these tests) wins over the local 30 s.
    await wait_until(lambda: "log_off" in actions(running.control), seconds=4)
    assert actions(running.control).count("lock_screen") == locks_before + 1
    assert running.mode() == "locked"
    await running.stop()


async def test_server_killed_mid_session_the_agent_still_locks_at_the_end(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-OFFLINE")
    session = await start_session(admin, station_id, minutes=30)
    await end_soon(live_server, str(session["id"]), 6)  # sold for 6 seconds, in effect
    running = RunningAgent(
        agent_config(live_server.base_url, station_id, token), tmp_path / "state.json"
    ).start()
    await wait_until(lambda: running.mode() == "session")  # learnt by sync_request
    locks_before = actions(running.control).count("lock_screen")
    await live_server.stop()  # the server dies before the session ends
    await wait_until(lambda: not running.agent.link.connected)
    assert running.mode() == "session"
    await wait_until(lambda: running.mode() == "grace", seconds=8)
    await wait_until(lambda: "log_off" in actions(running.control), seconds=3)
    assert actions(running.control).count("lock_screen") == locks_before + 1
    await running.stop()


async def test_agent_restart_mid_session_resumes_with_the_right_time(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    await start_session(admin, station_id, minutes=30)
    started = utc_now()

    def expected_left() -> float:
        return 1800 - (utc_now() - started).total_seconds()

    await wait_until(lambda: running.mode() == "session")
    await running.stop()  # e.g. a crash or a reboot: the state file stays
    assert (tmp_path / "state.json").exists()

    await live_server.stop()  # resume from the file alone, with no server to ask
    await asyncio.sleep(2)
    again = RunningAgent(running.agent.config, tmp_path / "state.json").start()
    await wait_until(lambda: again.mode() == "session", seconds=2)
    assert abs((again.remaining() or 0) - expected_left()) <= 2  # the time down was counted

    await live_server.start()  # back online: the server's view agrees
    await wait_until(lambda: again.agent.link.connected, seconds=10)
    await asyncio.sleep(0.5)
    assert abs((again.remaining() or 0) - expected_left()) <= 2
    await again.stop()


async def test_wrong_token_logs_clearly_and_backs_off(
    live_server: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    station_id, _ = await live_server.create_pc_station("PC-BADTOKEN")
    config = agent_config(live_server.base_url, station_id, new_agent_token())
    running = RunningAgent(config, tmp_path / "state.json")
    with captured_events(caplog) as logs:
        started = time.monotonic()
        running.start()
        await wait_until(lambda: running.agent.link.attempts >= 3, seconds=10)
        took = time.monotonic() - started
        await running.stop()
    rejected = [entry for entry in logs if entry["event"] == "agent_rejected_by_server"]
    assert rejected, [entry["event"] for entry in logs]
    assert "agent-token" in rejected[0]["fix"]
    # At least 1 s between tries (rejected_floor in the harness): not a tight loop.
    assert took >= 2
    assert running.mode() == "locked"


async def test_heartbeats_carry_input_idle_time_to_the_station(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    running.control.idle = 125.4  # the customer walked away two minutes ago

    async def reported_idle() -> object:
        station = (await admin.get(f"/api/v1/stations/{station_id}")).json()
        return (station.get("metrics") or {}).get("idle_seconds")

    # Heartbeats every second here; the first carries no reading yet.
    assert await eventually(reported_idle, lambda idle: idle == 125) == 125
    await running.stop()


async def test_agent_hello_reaches_the_server(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)

    async def station() -> dict[str, object]:
        answer: dict[str, object] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
        return answer

    said_hello = await eventually(station, lambda s: "cpu_model" in str(s))
    assert said_hello["status"] == "ONLINE"
    await running.stop()


class ShiftableClock:
    """The real clocks, with a wall clock a test can turn like a customer would."""

    def __init__(self) -> None:
        self.inner = SystemClock()
        self.shift = timedelta(0)

    def now(self) -> Instant:
        reading = self.inner.now()
        return Instant(reading.steady, reading.wall + self.shift)


async def test_turning_the_wall_clock_back_is_reported_and_gives_no_time(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    station_id, token = await live_server.create_pc_station("PC-CLOCK")
    clock = ShiftableClock()
    config = agent_config(live_server.base_url, station_id, token)
    running = RunningAgent(config, tmp_path / "state.json", clock=clock).start()
    await wait_until(lambda: running.agent.link.connected)
    await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    before, measured_at = running.remaining() or 0, time.monotonic()
    clock.shift = -timedelta(hours=2)
    assert await wait_for_tamper(admin, "clock_changed") == ["clock_changed"]
    expected = before - (time.monotonic() - measured_at)
    assert abs((running.remaining() or 0) - expected) <= 1.5  # no hours gained
    await running.stop()


async def test_stopping_mid_session_and_unclean_stops_are_reported(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    await running.stop()
    assert await wait_for_tamper(admin, "service_stopped") == ["service_stopped"]

    # A killed agent leaves its run marker behind; the next start reports it.
    (tmp_path / "state.json.running").touch()
    again = RunningAgent(running.agent.config, tmp_path / "state.json").start()
    await wait_until(lambda: again.agent.link.connected)
    assert (await wait_for_tamper(admin, "agent_stopped_uncleanly"))[0] == "agent_stopped_uncleanly"
    await again.stop()
    assert not (tmp_path / "state.json.running").exists()


async def test_a_second_agent_for_the_station_replaces_the_first_which_stands_down(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    first, station_id = await connected_agent(live_server, tmp_path)
    session = await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: first.mode() == "session")
    second = RunningAgent(first.agent.config, tmp_path / "second-state.json").start()
    await wait_until(lambda: second.agent.link.connected and not first.agent.link.connected)
    # It does not fight back: its next try is minutes away.
    assert first.agent.link.last_outcome is Outcome.REPLACED
    assert not first.agent.link.connecting
    assert second.agent.link.connected
    assert first.mode() == "session"  # still enforcing the paid time, offline
    await wait_until(lambda: second.mode() == "session")
    assert str(second.agent.machine.session_id) == session["id"]
    await first.stop()
    await second.stop()


async def test_server_restart_the_agent_comes_back_by_itself(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    before = running.remaining() or 0
    await live_server.restart()
    await wait_until(lambda: running.agent.link.connections == 2, seconds=10)
    assert running.agent.link.attempts <= 8  # retried while it was down, not in a tight loop
    await asyncio.sleep(0.5)
    assert running.mode() == "session"
    assert abs((running.remaining() or 0) - before) <= 12
    await running.stop()


async def test_a_stop_in_paid_time_while_offline_is_reported_on_the_next_start(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    running, station_id = await connected_agent(live_server, tmp_path)
    await start_session(admin, station_id, minutes=30)
    await wait_until(lambda: running.mode() == "session")
    await live_server.stop()  # the goodbye cannot be delivered
    await wait_until(lambda: not running.agent.link.connected)
    await running.stop()
    assert (tmp_path / "state.json.unsent-stop").exists()
    await live_server.start()
    again = RunningAgent(running.agent.config, tmp_path / "state.json").start()
    kinds = await wait_for_tamper(admin, "service_stopped", seconds=10)
    assert kinds.count("service_stopped") == 1
    assert not (tmp_path / "state.json.unsent-stop").exists()
    await again.stop()
