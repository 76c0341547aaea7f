"""Agents' sync_requests, answered many to a transaction (group commit).

Every agent asks what it should be doing right after its hello (flow 10): after a restart,
ten thousand of them within a minute. One transaction each, that was a few queries and a
commit per agent queued on the database (on SQLite, on its one connection). Here a request
is queued, and whenever no batch is under way one transaction answers everything queued
(``agent_handlers.sync_replies``: the stations, sessions and due commands read for all at
once). If that transaction fails, its requests are answered again one transaction each,
so that one station's trouble is that agent's error alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import Payload, SyncRequest
from gameops.server.db.engine import Database
from gameops.server.realtime.grouped import Grouped

log = structlog.get_logger(__name__)
# Requests per transaction: bounds its statements' parameters, its locks and how long it
# holds the database from everyone else.
FLUSH_CHUNK = 500

Request = tuple[uuid.UUID, SyncRequest]
# The replies to each request of a batch, in order, in the transaction given (an
# ``Exception`` for a request refused alone): ``agent_handlers.sync_replies``.
AnswerMany = Callable[[AsyncSession, Sequence[Request]], Awaitable[list[list[Payload] | Exception]]]


class SyncAnswers:
    """``answer(station_id, request)``: the replies to an agent's sync_request, written in a
    transaction shared with the other requests that arrived meanwhile."""

    def __init__(
        self, database: Database, answer_many: AnswerMany, chunk: int = FLUSH_CHUNK
    ) -> None:
        self._database = database
        self._answer_many = answer_many
        self._requests = Grouped(self._answer_all, chunk, "sync-requests")
        self.transactions = 0  # batches that committed

    async def answer(self, station_id: uuid.UUID, request: SyncRequest) -> list[Payload]:
        replies: list[Payload] = await self._requests.submit((station_id, request))
        return replies

    async def _answer_all(self, batch: list[Request]) -> list[Any]:
        try:
            async with self._database.transaction() as db:
                replies = await self._answer_many(db, batch)
        except Exception as err:
            if len(batch) == 1:
                raise
            log.warning("sync_requests failed together; answered one by one",
                        requests=len(batch), error=repr(err)[:200])  # fmt: skip
            return [await self._answer_alone(request) for request in batch]
        self.transactions += 1
        return replies

    async def _answer_alone(self, request: Request) -> Any:
        try:
            return (await self._answer_all([request]))[0]
        except Exception as err:
            return err
