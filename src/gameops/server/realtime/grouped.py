"""Calls that arrive together, answered by one piece of work (a group commit).

Whenever no batch is under way, one starts at once with everything queued (up to
``chunk``); what arrives meanwhile waits for the next. A lone caller waits for its own
batch only, and a storm shares them. ``handle`` answers a batch with one outcome per item,
in order (an ``Exception`` among them fails that item alone); if it raises, every item of
the batch gets the error (or is cancelled, when the batch itself was).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")

Handle = Callable[[list[Item]], Awaitable[list[Any]]]


class Grouped(Generic[Item]):
    def __init__(self, handle: Handle[Item], chunk: int, name: str) -> None:
        self._handle = handle
        self._chunk = chunk
        self._name = name
        self._queue: list[tuple[Item, asyncio.Future[Any]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Any:
        """``item``'s outcome, once the batch it joined is handled."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((item, answer))
        if self._running is None:
            self._running = asyncio.create_task(self._drain(), name=self._name)
        return await answer

    async def idle(self) -> None:
        """Waits for the batches already queued to be handled."""
        if self._running is not None:
            await asyncio.shield(self._running)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._chunk], self._queue[self._chunk :]
                await self._answer(batch)
        finally:
            self._running = None
            for _, answer in self._queue:  # left only if a batch was cancelled
                answer.cancel()
            self._queue.clear()

    async def _answer(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            outcomes = await self._handle([item for item, _ in batch])
        except Exception as err:
            for _, answer in batch:
                if not answer.done():  # done: its caller went away (cancelled)
                    answer.set_exception(err)
            return
        except BaseException:
            for _, answer in batch:
                answer.cancel()
            raise
        for (_, answer), outcome in zip(batch, outcomes, strict=True):
            if answer.done():
                continue
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)
