"""Waiting for something another task or process does, with a deadline instead of a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout: float = 5
) -> T:
    """Call ``probe`` until ``accept`` holds for its answer; return that answer.

    Fails with the last answer when ``timeout`` seconds pass first.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = await probe()
        if accept(answer):
            return answer
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not accepted after {timeout} s: {answer!r}")
        await asyncio.sleep(0.05)


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Wait for plain state (no awaiting needed to read it) to hold; fail after ``timeout``."""

    async def probe() -> bool:
        return condition()

    await eventually(probe, bool, timeout=timeout)
