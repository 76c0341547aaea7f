"""The throttle on its own: moving windows, one "first" per burst, and Redis failures
counted in the process, with Redis tried again after a pause."""

from __future__ import annotations

import socket

import pytest
from limits.aio.storage import MemoryStorage

from gameops.server.throttle import RETRY_PRIMARY_SECONDS, Rule, Throttle, Throttled, build_throttle

RULE = Rule.of("test", "3 per minute")


async def test_past_the_limit_refused_with_the_wait_and_one_first() -> None:
    counted: list[str] = []
    throttle = Throttle(MemoryStorage(), on_throttled=lambda rule: counted.append(rule.name))
    for _ in range(3):
        await throttle.acquire(RULE, "k")
    refusals = []
    for _ in range(3):
        with pytest.raises(Throttled) as refused:
            await throttle.acquire(RULE, "k")
        refusals.append(refused.value)
    assert [r.first for r in refusals] == [True, False, False]
    assert all(0 < r.retry_after <= 60 for r in refusals)
    assert counted == ["test"] * 3
    await throttle.acquire(RULE, "another key")  # keys do not share a window
    await throttle.reset(RULE, "k")
    await throttle.acquire(RULE, "k")


async def test_check_and_fail_count_only_failures() -> None:
    throttle = Throttle(MemoryStorage())
    for _ in range(3):
        await throttle.check(RULE, "k")
        await throttle.fail(RULE, "k")
    with pytest.raises(Throttled):
        await throttle.check(RULE, "k")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_redis_down_counts_in_process_and_redis_is_tried_again_later() -> None:
    now = [1000.0]
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    throttle = build_throttle(url, "test:", clock=lambda: now[0])
    for _ in range(3):
        await throttle.acquire(RULE, "k")  # Redis refuses connections: no error
    with pytest.raises(Throttled):
        await throttle.acquire(RULE, "k")
    assert throttle._primary_down_until == now[0] + RETRY_PRIMARY_SECONDS
    now[0] += RETRY_PRIMARY_SECONDS + 1
    with pytest.raises(Throttled):  # tried Redis again, failed again, still counted here
        await throttle.acquire(RULE, "k")
    assert throttle._primary_down_until == now[0] + RETRY_PRIMARY_SECONDS
    await throttle.close()
