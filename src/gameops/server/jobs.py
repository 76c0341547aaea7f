"""Background work that runs every N seconds in each server process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)


async def finish_within(work: Awaitable[Any], seconds: float, what: str) -> bool:
    """Let ``work`` run for at most ``seconds``; tell whether it finished. Past that it is
    cancelled and left to unwind on its own, without waiting: a cancelled await on a stuck
    connection can take as long to unwind as it took to hang, and a stop must end (a replica
    exits within 15 s of SIGTERM). Its failure is logged, not raised; a cancellation of the
    caller cancels ``work`` too and is raised."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_forget)
        log.warning("did not finish in time; left behind", work=what, seconds=round(seconds, 2))
        return False
    if not task.cancelled() and (err := task.exception()) is not None:
        log.warning("failed while stopping", work=what, error=repr(err)[:300])
    return True


def _forget(task: asyncio.Future[Any]) -> None:
    # Fetch the outcome of left-behind work, so asyncio does not report it as never retrieved.
    if not task.cancelled():
        task.exception()


class Periodic:
    """Calls ``job`` every ``seconds``; a failure is logged and the next tick runs anyway."""

    def __init__(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._seconds = seconds
        self._job = job
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._job()
            except Exception:
                log.exception("periodic job failed", job=self._name)
