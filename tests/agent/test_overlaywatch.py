"""What each end of the overlay is reported as, and when it locks the station: pure, with
a made-up steady clock."""

from __future__ import annotations

from gameops.agent.overlaywatch import OverlayWatch
from gameops.agent.supervisor import Exit

KILLED = Exit(returncode=-9, ran_for=30.0, answered=True)
FROZEN = Exit(returncode=-9, ran_for=30.0, answered=True, frozen=True)
NO_DISPLAY = Exit(returncode=1, ran_for=0.3, answered=False)


def test_each_kill_is_reported_with_its_count_and_one_too_many_locks() -> None:
    watch = OverlayWatch(allowed_per_minute=3)
    verdicts = [watch.ended(KILLED, now, in_session=True) for now in (0.0, 5.0, 10.0)]
    assert [v.report.count for v in verdicts if v.report] == [1, 2, 3]
    assert all(v.lock_reason is None for v in verdicts)
    fourth = watch.ended(FROZEN, 15.0, in_session=True)
    assert fourth.report is not None
    assert fourth.report.kind == "overlay_frozen"
    assert fourth.report.count == 4 and fourth.report.lock
    assert fourth.lock_reason is not None and "4 times in a minute" in fourth.lock_reason


def test_kills_spread_over_more_than_a_minute_do_not_lock() -> None:
    watch = OverlayWatch(allowed_per_minute=3)
    verdicts = [watch.ended(KILLED, now, in_session=True) for now in (0, 25, 50, 75, 100)]
    assert all(v.lock_reason is None for v in verdicts)
    assert [v.report.count for v in verdicts if v.report] == [1, 2, 3, 3, 3]


def test_kills_while_no_session_runs_are_reported_but_do_not_lock() -> None:
    watch = OverlayWatch(allowed_per_minute=1)
    verdicts = [watch.ended(KILLED, now, in_session=False) for now in (0.0, 1.0, 2.0)]
    assert all(v.report is not None and v.lock_reason is None for v in verdicts)


def test_our_own_log_off_excuses_one_end_only() -> None:
    # Before: every death within 60 s of a log-off went unreported.
    watch = OverlayWatch(allowed_per_minute=3)
    watch.logged_off(100.0)
    assert watch.ended(KILLED, 101.0, in_session=False).report is None
    second = watch.ended(KILLED, 103.0, in_session=False)
    assert second.report is not None and second.report.kind == "overlay_killed"
    assert watch.ends == 2


def test_a_crash_loop_at_start_up_is_reported_as_a_burst_with_its_count() -> None:
    # Before: a crash loop was reported once, however long it went on.
    watch = OverlayWatch(allowed_per_minute=3)
    first = watch.ended(NO_DISPLAY, 0.0, in_session=False).report
    assert first is not None and first.kind == "overlay_failed" and first.count == 1
    quiet = [watch.ended(NO_DISPLAY, float(now), in_session=False).report for now in range(1, 30)]
    assert quiet == [None] * 29
    assert watch.flush(59.0) is None
    burst = watch.flush(60.0)
    assert burst is not None and burst.count == 29 and "(29 times)" in burst.detail
    watch.ended(NO_DISPLAY, 61.0, in_session=False)
    rest = watch.recovered(62.0)  # the overlay answers again: the rest is reported now
    assert rest is not None and rest.count == 1
    assert watch.ends == 31


def test_a_launch_error_is_reported_with_the_error() -> None:
    watch = OverlayWatch(allowed_per_minute=3)
    report = watch.launch_failed(OSError(1314, "A required privilege is not held"), 0.0)
    assert report is not None and report.kind == "overlay_failed"
    assert "1314" in report.detail


def test_an_overlay_killed_before_it_can_answer_still_locks_in_paid_time() -> None:
    # A script killing each new overlay at once leaves only failed starts behind.
    watch = OverlayWatch(allowed_per_minute=3)
    verdicts = [watch.ended(NO_DISPLAY, now, in_session=True) for now in (0.0, 0.2, 0.6, 1.4)]
    assert [v.lock_reason is not None for v in verdicts] == [False, False, False, True]
    report = verdicts[-1].report
    assert report is not None and report.kind == "overlay_failed" and report.lock
    assert report.count == 4
