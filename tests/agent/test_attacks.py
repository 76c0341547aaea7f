"""Attacks that need no screen, end to end: the real server (restarted on its own port to
play an outage where needed) and the real agent as its own process, simulated backend.

- Clean stop: SIGTERM (a service stop) during paid time.
- Clock back while down: the agent killed, the PC "rebooted" with its wall clock set back.
- Forged state file: the agent killed, its state file edited to give 10 hours.
- Outage across the end: the network cut before the end, the session extended meanwhile.

A test cannot reboot this machine or turn its clock, so the clock attack writes what such a
PC would leave behind: a state file saved (and signed) in another boot, at a wall-clock
time after the one the PC now shows. The forged file is edited without the key, as a
customer would have to.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from gameops.agent.clock import boot_id
from gameops.agent.effects import SavedSession
from gameops.protocol import utc_now
from tests.agent.agentproc import AgentProcess, events, poll, record_figures, station
from tests.support.live_server import LiveServer
from tests.support.proxy import TcpProxy
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually


async def agent_in_session(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path, base_url: str = ""
) -> tuple[AgentProcess, dict[str, object]]:
    station_id, token = await live_server.create_pc_station("PC-ATTACKED")
    agent = await AgentProcess(
        tmp_path, base_url or live_server.base_url, station_id, token
    ).start()
    await eventually(lambda: station(admin, station_id), lambda s: s["agent_connected"], 15)
    session = await start_session(admin, station_id, minutes=30)
    await poll(lambda: _saved_session(agent) == session["id"], seconds=10)
    return agent, session


def clock_was_ahead(saved: SavedSession, hours: int) -> SavedSession:
    """The file a PC writes with its clock ``hours`` ahead of the clock it shows now: what a
    clock turned back while the agent is down looks like when the agent starts again."""
    ahead = timedelta(hours=hours)
    return replace(
        saved,
        saved_at=saved.saved_at + ahead,
        skew_seconds=saved.skew_seconds - ahead.total_seconds(),
    )


def _saved_session(agent: AgentProcess) -> str | None:
    saved = agent.state().load().session
    return str(saved.session_id) if saved else None


async def tamper_of_kind(admin: httpx.AsyncClient, station_id: str, kind: str) -> dict[str, object]:
    reports = await eventually(
        lambda: events(admin, "AGENT_TAMPER", station_id),
        lambda found: any(x["data"]["kind"] == kind for x in found),
        15,
    )
    [report] = [x for x in reports if x["data"]["kind"] == kind]
    return report


async def server_remaining(admin: httpx.AsyncClient, station_id: str) -> float:
    floor = (await admin.get("/api/v1/floor")).json()
    [mine] = [s for s in floor["stations"] if s["id"] == station_id]
    return float(mine["session"]["remaining_seconds"])


async def test_a_clean_stop_in_paid_time_says_goodbye_is_a_tamper_and_shows_client_stopped(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    agent, session = await agent_in_session(live_server, admin, tmp_path)
    stopped_at = time.monotonic()
    assert await agent.stop(signal.SIGTERM) == 0
    stopped = await eventually(
        lambda: station(admin, agent.station_id),
        lambda s: s["agent_stop"] is not None and not s["agent_connected"],
    )
    seen_in = time.monotonic() - stopped_at
    assert stopped["agent_stop"]["reason"] == "service_stop"
    assert stopped["agent_stop"]["session_id"] == session["id"]
    [event] = await events(admin, "AGENT_STOPPED", agent.station_id)
    [tamper] = await events(admin, "AGENT_TAMPER", agent.station_id)
    assert tamper["data"]["kind"] == "service_stopped"
    [gone] = await events(admin, "AGENT_DISCONNECTED", agent.station_id)
    assert gone["data"]["reason"] == "client stopped (service_stop)"
    assert agent.logged("agent_stopping", reason="service_stop")

    # An updater leaves a note (reason, who) before it stops the service.
    (tmp_path / "again").mkdir()
    again = AgentProcess(tmp_path / "again", live_server.base_url, agent.station_id, agent.token)
    await again.start()
    await eventually(lambda: station(admin, agent.station_id), lambda s: s["agent_connected"], 15)
    (again.state_path.parent / "state.json.stop-reason").write_text("update\nsetup.exe (admin)\n")
    assert await again.stop(signal.SIGTERM) == 0
    updated = await eventually(
        lambda: station(admin, agent.station_id), lambda s: s["agent_stop"] is not None
    )
    assert updated["agent_stop"]["reason"] == "update"
    assert updated["agent_stop"]["by"] == "setup.exe (admin)"
    record_figures(
        "clean-stop",
        goodbye_event=event["data"],
        tamper=tamper["data"],
        station_shows_client_stopped_after_seconds=round(seen_in, 2),
        disconnect_reason=gone["data"]["reason"],
        update_stop=updated["agent_stop"],
    )


async def test_clock_set_back_while_the_agent_was_down_earns_nothing(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    agent, session = await agent_in_session(live_server, admin, tmp_path)
    await agent.stop(signal.SIGKILL)
    await live_server.stop()  # offline: the PC's word is all the agent has
    state = agent.state()
    saved = state.load().session
    assert saved is not None
    # What a reboot with the clock set back 2 hours leaves: a file from another boot,
    # saved "in the future" of the clock the PC now shows.
    state.save(replace(clock_was_ahead(saved, hours=2), boot_id="an-earlier-boot"))
    await agent.start()
    await poll(lambda: bool(agent.logged("agent_lock", reason="no_session")), seconds=10)
    assert not agent.logged("agent_notify", text="Session resumed.")  # nothing granted

    await live_server.start()
    report = await tamper_of_kind(admin, agent.station_id, "clock_back_while_down")
    # The server's answer is what counts: the session goes on with the server's time left.
    await poll(lambda: bool(agent.logged("agent_notify", text="Session resumed.")), seconds=15)
    left_on_server = await server_remaining(admin, agent.station_id)
    await poll(lambda: agent.state().load().session is not None, seconds=10)
    resumed = agent.state().load().session
    assert resumed is not None and str(resumed.session_id) == session["id"]
    assert abs(resumed.remaining_seconds - left_on_server) < 6
    record_figures(
        "clock-back-across-reboot",
        tamper=report["data"],
        agent_remaining_after_server_sync=round(resumed.remaining_seconds),
        server_remaining=round(left_on_server),
    )
    await agent.stop()


async def test_clock_set_back_within_one_boot_is_counted_by_the_steady_clock(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    assert boot_id() is not None  # Linux: the same boot is recognised
    agent, _ = await agent_in_session(live_server, admin, tmp_path)
    await agent.stop(signal.SIGKILL)
    await live_server.stop()
    state = agent.state()
    saved = state.load().session
    assert saved is not None
    written = clock_was_ahead(saved, hours=2)  # the clock is set back 2 h while down
    state.save(written)
    down_for = 3.0
    await asyncio.sleep(down_for)  # the time the agent is down, which must be counted
    await agent.start()
    await poll(lambda: bool(agent.logged("agent_notify", text="Session resumed.")), seconds=10)
    await poll(lambda: _saved_at(agent) not in (None, written.saved_at), seconds=10)
    resumed = agent.state().load().session
    assert resumed is not None
    lost = saved.remaining_seconds - resumed.remaining_seconds
    assert down_for <= lost <= down_for + 8  # the downtime was charged, no 2 hours gained
    await live_server.start()
    report = await tamper_of_kind(admin, agent.station_id, "clock_changed_while_down")
    record_figures(
        "clock-back-same-boot",
        tamper=report["data"],
        seconds_charged=round(lost, 1),
        down_for=down_for,
    )
    await agent.stop()


def _saved_at(agent: AgentProcess) -> datetime | None:
    saved = agent.state().load().session
    return saved.saved_at if saved else None


async def test_a_forged_state_file_locks_is_reported_and_the_server_restores_the_truth(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    agent, session = await agent_in_session(live_server, admin, tmp_path)
    await agent.stop(signal.SIGKILL)
    await live_server.stop()
    raw = json.loads(agent.state_path.read_text())
    raw["state"]["session"]["remaining_seconds"] = 36000.0  # 10 hours, by hand
    end = utc_now() + timedelta(hours=10)
    raw["state"]["session"]["scheduled_end_at"] = end.isoformat()
    agent.state_path.write_text(json.dumps(raw))
    await agent.start()
    await poll(lambda: bool(agent.logged("state_file_refused")), seconds=10)
    await poll(lambda: bool(agent.logged("agent_lock", reason="no_session")), seconds=10)
    assert not agent.logged("agent_notify", text="Session resumed.")

    await live_server.start()
    report = await tamper_of_kind(admin, agent.station_id, "state_file_invalid")
    await poll(lambda: bool(agent.logged("agent_notify", text="Session resumed.")), seconds=15)
    await poll(lambda: _saved_session(agent) == session["id"], seconds=10)
    resumed = agent.state().load().session
    assert resumed is not None and resumed.remaining_seconds < 1800  # not 10 hours
    record_figures(
        "forged-state-file",
        tamper=report["data"],
        remaining_after_server_sync=round(resumed.remaining_seconds),
    )
    await agent.stop()


async def test_an_outage_across_the_end_does_not_log_off_a_customer_who_paid_for_more(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    proxy = TcpProxy("127.0.0.1", live_server.port)
    await proxy.start()
    station_id, token = await live_server.create_pc_station("PC-OUTAGE")
    session = await start_session(admin, station_id, minutes=30)
    end_at = await end_soon(live_server, str(session["id"]), 8)  # sold for 8 s, in effect
    agent = AgentProcess(tmp_path, proxy.url("http"), station_id, token)
    await agent.start()
    await poll(lambda: _saved_session(agent) == session["id"], seconds=5)  # learnt by sync
    await proxy.cut()  # the venue's network goes down before the end...
    extended = await admin.put(
        f"/api/v1/sessions/{session['id']}/extend", json={"additional_minutes": 30}
    )
    assert extended.status_code == 200, extended.text  # ...and the customer pays for more
    await asyncio.sleep(max(0.0, (end_at - utc_now()).total_seconds()) + 0.5)
    proxy.restore()  # back half a second after the old end, during the grace
    restored = utc_now()
    await poll(lambda: bool(agent.logged("agent_notify", text="Time added!")), seconds=15)
    learnt_at = utc_now()
    await asyncio.sleep(agent.grace + 1)  # past where the old end's log-off would have come
    assert not agent.logged("agent_log_off")
    assert agent.logged("agent_notify", text="Session ended. Save your work now.")  # the grace
    assert not agent.logged("agent_lock", reason="expired")  # the extension came within it
    record_figures(
        "outage-across-the-end",
        extension_learnt_seconds_after_old_end=round((learnt_at - end_at).total_seconds(), 2),
        extension_learnt_seconds_after_network_back=round(
            (learnt_at - restored).total_seconds(), 2
        ),
        grace_seconds=agent.grace,
        logged_off=False,
    )
    await agent.stop()
    await proxy.close()
