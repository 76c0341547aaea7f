"""While agents storm in, the connections made so far are kept out of the collector's full
collections (frozen); once the storm has passed, or the server stops, they are handed back."""

from __future__ import annotations

from gameops.server.realtime.storm_gc import QUIET_SECONDS, STORM_RATE, StormCollector


class FakeCollector:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")


def test_frozen_while_storming_and_handed_back_once_quiet() -> None:
    rate, now, collector = [0.0], [0.0], FakeCollector()
    storms = StormCollector(lambda: rate[0], collector, clock=lambda: now[0])
    storms.tick()
    assert collector.calls == []  # quiet: the collector works as usual
    rate[0] = STORM_RATE
    for _ in range(3):
        storms.tick()
        now[0] += 1
    assert collector.calls == ["freeze"] * 3 and storms.frozen
    rate[0] = STORM_RATE / 10  # a lull is not the end
    now[0] += QUIET_SECONDS - 2
    storms.tick()
    assert collector.calls[-1] == "freeze" and storms.frozen
    now[0] += 1
    storms.tick()
    assert collector.calls[-1] == "unfreeze" and not storms.frozen
    storms.tick()
    assert collector.calls.count("unfreeze") == 1


async def test_stopping_hands_back_what_is_frozen() -> None:
    collector = FakeCollector()
    storms = StormCollector(lambda: STORM_RATE, collector)
    storms.tick()
    storms.start()
    await storms.stop()
    assert collector.calls == ["freeze", "unfreeze"] and not storms.frozen
    await storms.stop()  # twice: nothing more
    assert collector.calls == ["freeze", "unfreeze"]
