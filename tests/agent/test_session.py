"""The pure session state machine, driven by a fake clock: no sockets, no sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID, uuid4

import pytest

from gameops.agent.clock import Instant
from gameops.agent.effects import (
    Effect,
    KeepAwake,
    Lock,
    LogOff,
    Notify,
    Persist,
    SavedSession,
    Send,
    Unlock,
    band_for,
)
from gameops.agent.session import Phase, SessionMachine, SessionRules
from gameops.protocol import (
    Ack,
    NoSession,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionInfo,
    SessionStart,
    SyncRequest,
    SyncResponse,
    Tamper,
)

E = TypeVar("E")
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    steady: float = 1000.0
    wall: datetime = T0

    def now(self) -> Instant:
        return Instant(self.steady, self.wall)

    def advance(self, seconds: float) -> Instant:
        self.steady += seconds
        self.wall += timedelta(seconds=seconds)
        return self.now()


def start_message(minutes: int, server_time: datetime = T0) -> SessionStart:
    return SessionStart(
        id=uuid4(),
        started_at=server_time,
        scheduled_end_at=server_time + timedelta(minutes=minutes),
        duration_minutes=minutes,
        server_time=server_time,
    )


def of_type(effects: list[Effect], kind: type[E]) -> list[E]:
    return [effect for effect in effects if isinstance(effect, kind)]


def sent(effects: list[Effect]) -> list[object]:
    return [effect.payload for effect in of_type(effects, Send)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def machine(clock: FakeClock) -> SessionMachine:
    m = SessionMachine(SessionRules(warning_seconds=300, grace_seconds=60))
    m.start(clock.now(), None)
    return m


def run_for(machine: SessionMachine, clock: FakeClock, seconds: int) -> list[Effect]:
    effects: list[Effect] = []
    for _ in range(seconds):
        effects += machine.tick(clock.advance(1))
    return effects


def test_no_session_at_start_locks_the_station(clock: FakeClock) -> None:
    effects = SessionMachine(SessionRules()).start(clock.now(), None)
    assert Lock("no_session") in effects


def test_session_start_is_acked_unlocks_and_counts_down(
    machine: SessionMachine, clock: FakeClock
) -> None:
    message_id = uuid4()
    effects = machine.handle(message_id, start_message(30), clock.now())
    assert sent(effects)[0] == Ack(id=message_id)
    assert Unlock() in effects
    assert KeepAwake(True) in effects
    assert machine.view(clock.now()).remaining_seconds == 1800
    run_for(machine, clock, 90)
    view = machine.view(clock.now())
    assert (view.mode, view.remaining_seconds, view.band) == ("session", 1710, "green")


def test_countdown_corrects_for_a_pc_clock_that_is_wrong(
    machine: SessionMachine, clock: FakeClock
) -> None:
    # The PC's wall clock is 2 hours behind the server: remaining time must not change.
    clock.wall = T0 - timedelta(hours=2)
    machine.handle(uuid4(), start_message(20, server_time=T0), clock.now())
    assert machine.remaining_seconds(clock.now()) == 1200


def test_changing_the_wall_clock_gives_no_free_time_and_is_reported(
    machine: SessionMachine, clock: FakeClock
) -> None:
    machine.handle(uuid4(), start_message(10), clock.now())
    clock.steady += 1
    clock.wall -= timedelta(hours=1)  # customer turns the clock back an hour
    effects = machine.tick(clock.now())
    tampers = [p for p in sent(effects) if isinstance(p, Tamper)]
    assert tampers[0].kind == "clock_changed"
    assert machine.remaining_seconds(clock.now()) == 599
    # The persisted state stays on the server's timeline despite the changed clock.
    saved = of_type(run_for(machine, clock, 5), Persist)[-1].saved
    assert saved is not None
    assert saved.remaining_seconds == pytest.approx(595)  # saved at 5 s into the session
    by_clock = saved.scheduled_end_at - (saved.saved_at + timedelta(seconds=saved.skew_seconds))
    assert by_clock.total_seconds() == pytest.approx(595)


@pytest.mark.parametrize(
    ("seconds", "band"),
    [(3600, "green"), (601, "green"), (600, "orange"), (300, "orange"), (299, "red"), (1, "red")],
)
def test_colour_bands(seconds: int, band: str) -> None:
    assert band_for(seconds) == band


def test_warnings_fire_once_at_warning_time_and_at_one_minute(
    machine: SessionMachine, clock: FakeClock
) -> None:
    machine.handle(uuid4(), start_message(6), clock.now())
    effects = run_for(machine, clock, 359)
    warnings = [n.text for n in of_type(effects, Notify) if n.level == "warning"]
    assert warnings == [
        "5 minutes left. Save your game soon.",
        "1 minute left. Save your game soon.",
    ]


def test_extension_moves_the_deadline_and_says_time_added(
    machine: SessionMachine, clock: FakeClock
) -> None:
    start = start_message(10)
    machine.handle(uuid4(), start, clock.now())
    run_for(machine, clock, 60)
    extended = SessionExtended(
        id=start.id,
        extended_minutes=30,
        new_end_time=start.scheduled_end_at + timedelta(minutes=30),
        server_time=clock.wall,
    )
    message_id = uuid4()
    effects = machine.handle(message_id, extended, clock.now())
    assert Ack(id=message_id) in sent(effects)
    assert Notify("Time added!") in effects
    assert machine.remaining_seconds(clock.now()) == 540 + 1800
    assert machine.view(clock.now()).message == "Time added!"


def test_local_expiry_leaves_the_desktop_usable_then_locks_and_logs_off_at_the_end_of_grace(
    machine: SessionMachine, clock: FakeClock
) -> None:
    machine.handle(uuid4(), start_message(1), clock.now())
    effects = run_for(machine, clock, 60)
    assert Notify("Session ended. Save your work now.", "warning") in effects
    assert not of_type(effects, Lock)  # the grace: the customer can still save
    assert LogOff() not in effects
    view = machine.view(clock.now())
    assert (view.mode, view.remaining_seconds) == ("grace", 60)
    assert view.message == "Save your work now: log-off in 1:00"
    effects = run_for(machine, clock, 59)
    assert not of_type(effects, Lock)
    assert LogOff() not in effects
    assert machine.view(clock.now()).message == "Save your work now: log-off in 0:01"
    effects = run_for(machine, clock, 1)
    # The lock comes first, with the log-off, at the log-off moment.
    assert effects[:1] == [Lock("expired")]
    assert LogOff() in effects
    assert KeepAwake(False) in effects
    assert Persist(None) in effects
    assert machine.phase is Phase.LOCKED
    view = machine.view(clock.now())
    assert (view.mode, view.message) == ("locked", "Session ended. Please see the front desk.")


def test_without_a_grace_period_expiry_locks_and_logs_off_at_once(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=0))
    machine.start(clock.now(), None)
    machine.handle(uuid4(), start_message(1), clock.now())
    effects = run_for(machine, clock, 60)
    assert Lock("expired") in effects
    assert LogOff() in effects
    assert machine.view(clock.now()).mode == "locked"


def test_server_expiry_uses_its_grace_and_a_repeat_does_not_extend_it(
    machine: SessionMachine, clock: FakeClock
) -> None:
    start = start_message(30)
    machine.handle(uuid4(), start, clock.now())
    expired = SessionExpired(id=start.id, grace_seconds=10)
    assert not of_type(machine.handle(uuid4(), expired, clock.now()), Lock)
    assert machine.view(clock.now()).remaining_seconds == 10
    run_for(machine, clock, 5)
    effects = machine.handle(uuid4(), expired, clock.now())
    assert [type(e) for e in effects] == [Send]  # only the ack
    effects = run_for(machine, clock, 5)
    assert Lock("expired") in effects
    assert LogOff() in effects


def test_manual_stop_locks_without_log_off(machine: SessionMachine, clock: FakeClock) -> None:
    start = start_message(30)
    machine.handle(uuid4(), start, clock.now())
    stop = SessionEnd(id=start.id, ended_at=clock.wall, reason="staff")
    effects = machine.handle(uuid4(), stop, clock.now()) + run_for(machine, clock, 120)
    assert Lock("stopped") in effects
    assert LogOff() not in effects
    assert machine.view(clock.now()).mode == "locked"


def test_a_stop_by_staff_during_the_grace_locks_at_once_without_log_off(
    machine: SessionMachine, clock: FakeClock
) -> None:
    start = start_message(1)
    machine.handle(uuid4(), start, clock.now())
    run_for(machine, clock, 60)
    assert machine.view(clock.now()).mode == "grace"
    stop = SessionEnd(id=start.id, ended_at=clock.wall, reason="staff")
    effects = machine.handle(uuid4(), stop, clock.now())
    assert Lock("stopped") in effects
    assert machine.view(clock.now()).mode == "locked"
    assert LogOff() not in effects + run_for(machine, clock, 120)


def test_the_idle_lock_view_does_not_repeat_its_title(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules())
    machine.start(clock.now(), None)
    view = machine.view(clock.now())
    assert (view.mode, view.message) == ("locked", "Please see the front desk.")
    # The overlay's lock view titles itself; the message must not say it again.
    assert "station locked" not in view.message.lower()


def test_extension_for_an_unknown_session_asks_for_a_sync(
    machine: SessionMachine, clock: FakeClock
) -> None:
    extended = SessionExtended(id=uuid4(), extended_minutes=5, new_end_time=T0)
    payloads = sent(machine.handle(uuid4(), extended, clock.now()))
    assert isinstance(payloads[0], Ack)
    assert payloads[1] == SyncRequest(last_known_session_id=None)


def test_sync_response_starts_a_session_the_agent_did_not_know(
    machine: SessionMachine, clock: FakeClock
) -> None:
    info = SessionInfo(
        id=uuid4(), started_at=T0, scheduled_end_at=T0 + timedelta(minutes=7), duration_minutes=7
    )
    effects = machine.handle(uuid4(), SyncResponse(session=info, server_time=T0), clock.now())
    assert not [p for p in sent(effects) if isinstance(p, Ack)]  # not a command
    assert Unlock() in effects
    assert machine.remaining_seconds(clock.now()) == 420


def test_no_session_clears_a_stale_local_session(machine: SessionMachine, clock: FakeClock) -> None:
    machine.handle(uuid4(), start_message(30), clock.now())
    effects = machine.handle(uuid4(), NoSession(server_time=clock.wall), clock.now())
    assert Lock("no_session") in effects
    assert Persist(None) in effects


def test_expiry_for_a_session_lost_offline_is_enforced_at_once(
    machine: SessionMachine, clock: FakeClock
) -> None:
    # The agent knew no session, so its lock view was up: there is no work to save.
    expired = SessionExpired(id=uuid4(), grace_seconds=3)
    effects = machine.handle(uuid4(), expired, clock.now())
    assert Lock("expired") in effects
    assert LogOff() in effects
    assert machine.view(clock.now()).mode == "locked"
    assert [type(e) for e in machine.handle(uuid4(), expired, clock.now())] == [Send]  # ack


def saved_session(remaining: float, saved_at: datetime, end_at: datetime) -> SavedSession:
    return SavedSession(
        session_id=UUID(int=7),
        scheduled_end_at=end_at,
        skew_seconds=0.0,
        remaining_seconds=remaining,
        saved_at=saved_at,
        phase="active",
    )


def test_resume_after_restart_keeps_the_right_time(clock: FakeClock) -> None:
    saved = saved_session(600, saved_at=T0, end_at=T0 + timedelta(minutes=10))
    clock.wall = T0 + timedelta(seconds=30)  # the agent was down for 30 s
    machine = SessionMachine(SessionRules())
    effects = machine.start(clock.now(), saved)
    assert Unlock() in effects
    assert machine.remaining_seconds(clock.now()) == 570


def test_resume_with_the_clock_turned_back_grants_nothing_extra(clock: FakeClock) -> None:
    saved = saved_session(600, saved_at=T0, end_at=T0 + timedelta(minutes=10))
    clock.wall = T0 - timedelta(hours=3)
    machine = SessionMachine(SessionRules())
    machine.start(clock.now(), saved)
    assert machine.remaining_seconds(clock.now()) == 600


def test_resume_after_the_end_passed_enforces_expiry(clock: FakeClock) -> None:
    saved = saved_session(60, saved_at=T0, end_at=T0 + timedelta(minutes=1))
    clock.wall = T0 + timedelta(minutes=5)
    machine = SessionMachine(SessionRules(grace_seconds=2))
    assert not of_type(machine.start(clock.now(), saved), Lock)
    assert machine.view(clock.now()).mode == "grace"
    effects = run_for(machine, clock, 2)
    assert Lock("expired") in effects
    assert LogOff() in effects


def test_resume_in_the_grace_period_keeps_what_was_left_of_it(clock: FakeClock) -> None:
    end_at = T0 - timedelta(seconds=20)
    saved = SavedSession(UUID(int=7), end_at, 0.0, 0.0, T0, "ending", logoff_in_seconds=42)
    clock.wall = T0 + timedelta(seconds=10)  # the agent was down for 10 s
    machine = SessionMachine(SessionRules(grace_seconds=60))
    assert not of_type(machine.start(clock.now(), saved), Lock)
    assert machine.view(clock.now()).remaining_seconds == 32
    assert Lock("expired") in run_for(machine, clock, 32)


def test_running_session_is_checkpointed_every_few_seconds(
    machine: SessionMachine, clock: FakeClock
) -> None:
    machine.handle(uuid4(), start_message(30), clock.now())
    persisted = of_type(run_for(machine, clock, 20), Persist)
    assert len(persisted) == 4
    assert persisted[-1].saved is not None
    assert persisted[-1].saved.remaining_seconds == pytest.approx(1780)


def test_without_log_off_the_grace_banner_does_not_promise_one(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=60, logs_off=False))
    machine.start(clock.now(), None)
    machine.handle(uuid4(), start_message(1), clock.now())
    run_for(machine, clock, 61)
    view = machine.view(clock.now())
    assert (view.mode, view.message) == ("grace", "Save your work now: the station locks in 0:59")
