"""The watchdog over the user-session part, with real child processes."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest

from gameops.agent.supervisor import Supervisor


async def test_a_child_that_cannot_start_is_reported_once_not_every_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gameops.agent.supervisor.RESTART_DELAY", 0.05)
    monkeypatch.setattr("gameops.agent.supervisor.MAX_RESTART_DELAY", 0.1)
    deaths: list[int] = []
    failing = [sys.executable, "-c", "raise SystemExit(3)"]  # e.g. no display to draw on
    supervisor = Supervisor(failing, {}, deaths.append)
    task = asyncio.create_task(supervisor.run())
    async with asyncio.timeout(20):
        while supervisor.starts < 4:  # noqa: ASYNC110 - polling a counter
            await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert deaths == [3]


async def test_the_child_gets_the_channel_secret_in_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deaths: list[int] = []
    echo = [sys.executable, "-c", "import os; raise SystemExit(len(os.environ['S']))"]
    supervisor = Supervisor(echo, {"S": "12345"}, deaths.append)
    task = asyncio.create_task(supervisor.run())
    async with asyncio.timeout(10):
        while not deaths:  # noqa: ASYNC110 - polling a list
            await asyncio.sleep(0.05)
    await supervisor.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert deaths == [5]
