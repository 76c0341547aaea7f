"""Background work that runs every N seconds in each server process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


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
