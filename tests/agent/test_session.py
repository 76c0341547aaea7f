"""The pure session state machine, driven by a fake clock: no sockets, no sleeping."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    PersistTamperLock,
    ReachServer,
    SavedSession,
    SavedTamperLock,
    Send,
    Unlock,
    band_for,
)
from gameops.agent.session import Phase, SessionMachine, SessionRules
from gameops.protocol import (
    Ack,
    NoSession,
    PackageOffer,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionInfo,
    SessionStart,
    StationInfo,
    SyncRequest,
    SyncResponse,
    Tamper,
    TamperClear,
    WalletUpdate,
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


def test_clock_turned_back_across_a_reboot_is_tamper_and_resumes_nothing(
    clock: FakeClock,
) -> None:
    # Before: the agent resumed with the 600 s saved, granting all the time it was down.
    saved = saved_session(600, saved_at=T0, end_at=T0 + timedelta(minutes=10))
    clock.wall = T0 - timedelta(hours=3)
    machine = SessionMachine(SessionRules())
    effects = machine.start(clock.now(), saved)
    assert machine.phase is Phase.LOCKED
    assert Lock("no_session") in effects
    [report] = sent(effects)
    assert isinstance(report, Tamper) and report.kind == "clock_back_while_down"


def test_within_one_boot_the_steady_clock_counts_the_downtime_whatever_the_wall_says(
    clock: FakeClock,
) -> None:
    saved = replace(
        saved_session(600, saved_at=T0, end_at=T0 + timedelta(minutes=10)),
        steady_at=clock.steady,
        boot_id="boot-1",
    )
    clock.steady += 200  # down for 200 s ...
    clock.wall = T0 - timedelta(hours=2)  # ... while the wall clock was set back 2 h
    machine = SessionMachine(SessionRules())
    effects = machine.start(Instant(clock.steady, clock.wall, "boot-1"), saved)
    assert machine.remaining_seconds(clock.now()) == 400
    [report] = sent(effects)
    assert isinstance(report, Tamper) and report.kind == "clock_changed_while_down"


def test_tamper_lock_locks_logs_off_after_the_grace_and_holds_until_cleared(
    clock: FakeClock,
) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=30))
    machine.handle(uuid4(), start_message(60), clock.now())
    effects = machine.engage_tamper_lock("overlay killed 4 times", clock.now())
    assert Lock("tamper") in effects
    assert machine.view(clock.now()).mode == "locked"
    [persisted] = of_type(effects, PersistTamperLock)
    assert persisted.lock is not None and persisted.lock.reason == "overlay killed 4 times"
    assert LogOff() not in run_for(machine, clock, 29)
    assert LogOff() in run_for(machine, clock, 2)
    # Still locked, and a new sale does not unlock it either: only staff clear it.
    assert Unlock() not in machine.handle(uuid4(), start_message(30, clock.wall), clock.now())
    assert machine.view(clock.now()).mode == "locked"
    assert machine.sync_request().tamper_locked
    cleared = machine.handle(uuid4(), TamperClear(cleared_at=clock.wall), clock.now())
    assert Unlock() in cleared and PersistTamperLock(None) in cleared
    assert machine.view(clock.now()).mode == "session"


def test_a_saved_tamper_lock_holds_after_a_restart(clock: FakeClock) -> None:
    lock = SavedTamperLock("overlay frozen", locked_at=T0, logoff_in_seconds=60)
    clock.advance(20)
    machine = SessionMachine(SessionRules())
    effects = machine.start(clock.now(), None, lock)
    assert Lock("tamper") in effects
    assert LogOff() not in run_for(machine, clock, 39)
    assert LogOff() in run_for(machine, clock, 2)  # 60 s after it was locked, not after start


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


def test_expiry_while_offline_retries_the_server_at_once_and_keeps_retrying(
    clock: FakeClock,
) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=10))
    machine.handle(uuid4(), start_message(1), clock.now())
    clock.advance(60)
    effects = machine.tick(clock.now(), "offline")
    assert ReachServer() in effects  # before: it waited for its backoff, up to 60 s
    retries = [e for _ in range(9) for e in machine.tick(clock.advance(1), "offline")]
    assert retries.count(ReachServer()) == 4  # every 2 s during the grace
    assert LogOff() in machine.tick(clock.advance(1), "offline")  # nobody answering: on time


def test_a_reconnect_in_flight_holds_the_log_off_and_an_extension_shows_time_added(
    clock: FakeClock,
) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=10))
    start = start_message(1)
    machine.handle(uuid4(), start, clock.now())
    clock.advance(60)
    assert ReachServer() in machine.tick(clock.now(), "offline")
    assert machine.view(clock.now()).mode == "grace"  # the desktop stays usable to save
    held = [e for _ in range(15) for e in machine.tick(clock.advance(1), "connecting")]
    assert LogOff() not in held  # the grace is over, but the server may say otherwise
    assert Lock("expired") in held  # the lock comes on time all the same
    assert machine.view(clock.now()).mode == "locked"
    extended = SessionInfo(
        id=start.id,
        started_at=start.started_at,
        scheduled_end_at=start.scheduled_end_at + timedelta(minutes=30),
        duration_minutes=31,
    )
    answer = SyncResponse(session=extended, server_time=T0 + timedelta(seconds=75))
    effects = machine.handle(uuid4(), answer, clock.now())
    assert Unlock() in effects
    assert Notify("Time added!") in effects
    assert machine.phase is Phase.ACTIVE
    assert LogOff() not in run_for(machine, clock, 30)


def test_the_log_off_hold_is_bounded_and_ends_when_the_server_answers(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=5))
    start = start_message(1)
    machine.handle(uuid4(), start, clock.now())
    clock.advance(60)
    machine.tick(clock.now(), "offline")
    waited = 0
    while LogOff() not in machine.tick(clock.advance(1), "connecting"):
        waited += 1
    assert waited == 5 + 20 - 1  # the grace, then at most 20 s more

    again = SessionMachine(SessionRules(grace_seconds=5))
    again.handle(uuid4(), start, clock.now())
    clock.advance(60)
    again.tick(clock.now(), "offline")
    for _ in range(6):
        again.tick(clock.advance(1), "online")  # connected, the answer not in yet: held
    expired = SessionExpired(id=start.id, grace_seconds=5)
    again.handle(uuid4(), expired, clock.now())
    assert LogOff() in again.tick(clock.advance(1), "online")


def test_the_customer_reads_the_stations_language(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules(warning_seconds=300, grace_seconds=60, language="de"))
    machine.start(clock.now(), None)
    assert machine.view(clock.now()).message == "Bitte wenden Sie sich an den Tresen."
    effects = machine.handle(uuid4(), start_message(6), clock.now())
    assert [n.text for n in of_type(effects, Notify)] == ["Sitzung gestartet. Viel Spaß!"]
    effects = run_for(machine, clock, 361)
    warnings = [n.text for n in of_type(effects, Notify) if n.level == "warning"]
    assert warnings == [
        "Noch 5 Minuten. Speichern Sie bald.",
        "Noch 1 Minute. Speichern Sie bald.",
        "Sitzung beendet. Speichern Sie jetzt.",
    ]
    view = machine.view(clock.now())
    assert view.mode == "grace" and view.message.startswith("Jetzt speichern: Abmeldung in 0:")


def test_a_language_without_words_falls_back_to_english(clock: FakeClock) -> None:
    machine = SessionMachine(SessionRules(language="xx"))
    machine.start(clock.now(), None)
    assert machine.view(clock.now()).message == "Please see the front desk."


def _info(packages: bool, self_service: bool = True) -> StationInfo:
    offers = [PackageOffer(name="3 h", minutes=180, price=1200, text="3 h: $12.00")]
    return StationInfo(
        station_name="PC-1",
        venue_name="Pixel Lounge",
        currency="USD",
        member_hourly_rate=600,
        guest_hourly_rate=800,
        self_service=self_service,
        packages=offers if packages else [],
    )


@pytest.mark.parametrize(
    ("info", "offer"),
    [
        (None, "To play on, see the front desk."),
        (_info(packages=True, self_service=False), "To play on, see the front desk."),
        (_info(packages=False), "To play on: log in here (balance or guest ticket)."),
        (_info(packages=True), "To play on: log in here (balance, package or guest ticket)."),
    ],
)
def test_the_grace_banner_says_how_to_play_on(
    clock: FakeClock, info: StationInfo | None, offer: str
) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=60))
    if info is not None:
        machine.handle(uuid4(), info, clock.now())
    machine.handle(uuid4(), start_message(1), clock.now())
    run_for(machine, clock, 60)
    view = machine.view(clock.now())
    assert (view.mode, view.offer) == ("grace", offer)


def test_a_spent_balance_is_topped_up_at_the_desk_before_logging_in_again(
    clock: FakeClock,
) -> None:
    machine = SessionMachine(SessionRules(grace_seconds=60))
    machine.handle(uuid4(), _info(packages=True), clock.now())
    start = start_message(1)
    machine.handle(uuid4(), start, clock.now())
    spent = WalletUpdate(
        session_id=start.id,
        balance=0,
        currency="USD",
        balance_text="$0.00",
        buys_seconds=0,
        block_ends_at=start.scheduled_end_at,
    )
    machine.handle(uuid4(), spent, clock.now())
    run_for(machine, clock, 60)
    offer = machine.view(clock.now()).offer
    assert offer == "To play on: top up or buy a ticket at the desk, then log in here."
