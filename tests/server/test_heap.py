"""The long-lived heap is kept out of the collector's full collections (frozen): what
survives a full collection, and while agents storm in, what survives a second. Once an hour,
outside a storm, it is handed back for one full walk; and when the server stops."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from gameops.server import heap as heap_module
from gameops.server.heap import QUIET_SECONDS, STORM_RATE, SWEEP_SECONDS, FrozenHeap


class FakeCollector:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.callbacks: list[Any] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def collect(self, generation: int) -> None:
        for phase in ("start", "stop"):
            for callback in self.callbacks:
                callback(phase, {"generation": generation, "collected": 0, "uncollectable": 0})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keeper(rate: list[float], clock: Clock) -> tuple[FrozenHeap, FakeCollector, list[int]]:
    collector, pauses = FakeCollector(), []
    heap = FrozenHeap(
        lambda: rate[0],
        lambda generation, _seconds: pauses.append(generation),
        collector,
        clock=clock,
    )
    return heap, collector, pauses


async def test_what_survives_a_full_collection_is_frozen_and_every_pause_reported() -> None:
    heap, collector, pauses = keeper([0.0], Clock())
    heap.start()
    collector.collect(0)
    collector.collect(1)
    assert collector.calls == [] and not heap.frozen  # young collections: nothing to keep
    collector.collect(2)
    assert collector.calls == ["freeze"] and heap.frozen
    assert pauses == [0, 1, 2]
    await heap.stop()
    assert collector.calls == ["freeze", "unfreeze"] and collector.callbacks == []
    await heap.stop()  # twice: nothing more
    assert collector.calls == ["freeze", "unfreeze"]


def test_frozen_every_tick_of_a_storm() -> None:
    rate, clock = [0.0], Clock()
    heap, collector, _ = keeper(rate, clock)
    heap.tick()
    assert collector.calls == []  # quiet: the collector works as usual
    rate[0] = STORM_RATE
    for _ in range(3):
        heap.tick()
        clock.now += 1
    assert collector.calls == ["freeze"] * 3 and heap.frozen


async def test_handed_back_once_an_hour_but_not_during_a_storm() -> None:
    rate, clock = [0.0], Clock()
    heap, collector, _ = keeper(rate, clock)
    heap.start()
    collector.collect(2)
    clock.now = SWEEP_SECONDS - 1
    heap.tick()
    assert collector.calls == ["freeze"] and heap.frozen
    rate[0] = STORM_RATE  # agents storming in when the hour is up: not now
    clock.now = SWEEP_SECONDS
    heap.tick()
    rate[0] = STORM_RATE / 10  # a lull is not the end of it
    clock.now += QUIET_SECONDS - 1
    heap.tick()
    assert "unfreeze" not in collector.calls
    clock.now += 1
    heap.tick()
    assert collector.calls[-1] == "unfreeze" and not heap.frozen
    heap.tick()
    assert collector.calls.count("unfreeze") == 1
    collector.collect(2)  # the full walk: then frozen again, for another hour
    assert collector.calls[-1] == "freeze" and heap.frozen
    clock.now += SWEEP_SECONDS - 1
    heap.tick()
    assert collector.calls.count("unfreeze") == 1
    await heap.stop()


async def test_a_real_full_collection_freezes_its_survivors() -> None:
    heap = FrozenHeap(lambda: 0.0, lambda _generation, _seconds: None)
    heap.start()
    try:
        before = gc.get_freeze_count()
        kept = [[n] for n in range(10_000)]  # tracked, alive
        gc.collect()
        assert heap.frozen and gc.get_freeze_count() >= before + len(kept)
    finally:
        await heap.stop()
    assert not heap.frozen and gc.get_freeze_count() == 0


async def test_a_long_pause_is_logged_at_the_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[dict[str, Any]] = []

    class Log:
        def warning(self, event: str, **fields: Any) -> None:
            warnings.append({"event": event, **fields})

    # The module's own logger may be cached by an earlier test's logging set-up, out of
    # reach of structlog's capture: this one records what it is told.
    monkeypatch.setattr(heap_module, "log", Log())
    monkeypatch.setattr(heap_module, "LOGGED_PAUSE_SECONDS", 0.0)  # every pause is long
    heap, collector, _ = keeper([0.0], Clock())
    heap.start()
    collector.collect(2)
    assert warnings == []  # not inside the collection: it has no context of its own
    heap.tick()
    heap.tick()
    await heap.stop()
    assert [(w["event"], w["generation"]) for w in warnings] == [
        ("garbage collection paused the server", 2)
    ]
