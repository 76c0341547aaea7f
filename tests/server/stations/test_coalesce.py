"""The tamper coalescing rule, on an injected clock (issue 11 §3)."""

from __future__ import annotations

from gameops.protocol import Tamper
from gameops.server.stations.coalesce import OVERFLOW_KIND, TamperCoalescer


def killed(detail: str = "taskkill", count: int = 1, lock: bool = False) -> Tamper:
    return Tamper(kind="overlay_killed", detail=detail, count=count, lock=lock)


def test_the_first_report_goes_through_and_repeats_wait_for_the_window() -> None:
    rule = TamperCoalescer(window=5)
    assert rule.offer(killed(), now=100.0) == killed()
    assert rule.next_due() is None  # nothing held yet
    for i in range(9_999):
        assert rule.offer(killed(f"#{i}"), now=100.0 + i * 0.0004) is None
    assert rule.next_due() == 105.0
    assert rule.due(104.9) == []
    assert rule.due(105.0) == [killed("#9998", count=9_999)]
    assert rule.due(110.0) == []  # the flood stopped: the window closes empty
    assert rule.offer(killed(), now=111.0) == killed()  # a new burst: at once again


def test_a_steady_flood_is_one_report_per_window_with_every_count() -> None:
    rule = TamperCoalescer(window=5)
    recorded: list[Tamper] = []
    for tick in range(6000):  # 100 reports a second for a minute
        now = tick / 100
        if (report := rule.offer(killed(count=2), now)) is not None:
            recorded.append(report)
        recorded += rule.due(now)
    recorded += rule.drain()
    assert len(recorded) <= 60 / 5 + 2
    assert sum(r.count for r in recorded) == 2 * 6000


def test_a_report_after_the_window_carries_what_was_held() -> None:
    rule = TamperCoalescer(window=5)
    rule.offer(killed(), 0)
    rule.offer(killed(count=3), 1)
    assert rule.offer(killed(count=1), 7) == killed(count=4)  # nobody called due() meanwhile
    assert rule.drain() == []


def test_kinds_and_locks_are_coalesced_apart() -> None:
    rule = TamperCoalescer(window=5)
    assert rule.offer(killed(), 0) is not None
    assert rule.offer(killed(lock=True), 1) == killed(lock=True)  # a lock is never held back
    clock = Tamper(kind="clock_changed", detail="-3600 s")
    assert rule.offer(clock, 1) == clock
    rule.offer(killed(), 2)
    rule.offer(killed(lock=True), 2)
    assert sorted(r.count for r in rule.drain()) == [1, 1]


def test_many_kinds_share_one_overflow_bucket() -> None:
    rule = TamperCoalescer(window=5, max_kinds=3)
    for i in range(3):
        assert rule.offer(Tamper(kind=f"k{i}"), 0) is not None
    first = rule.offer(Tamper(kind="k3", detail="d"), 0)
    assert first == Tamper(kind=OVERFLOW_KIND, detail="k3: d")
    for i in range(4, 1000):
        assert rule.offer(Tamper(kind=f"k{i}"), 1) is None
    assert rule.due(5) == [Tamper(kind=OVERFLOW_KIND, detail="k999: ", count=996)]


def test_a_few_reports_in_a_window_each_go_through_and_a_flood_is_held() -> None:
    """A kill loop reports each overlay death (its running count, then the lock): each
    reaches the dashboard. Only what comes beyond ``burst`` in one window is held."""
    rule = TamperCoalescer(window=10, burst=5)
    loop = [killed(count=n) for n in (1, 2, 3)] + [killed(count=4, lock=True)]
    assert [rule.offer(report, now=float(n)) for n, report in enumerate(loop)] == loop
    for n in range(4, 6):
        assert rule.offer(killed(count=n), now=5.0) == killed(count=n)
    assert rule.offer(killed(count=6), now=5.5) is None  # the sixth in ten seconds
    assert rule.due(10.0) == [killed(count=6)]
