"""``Idempotency-Key`` for requests that move money (start, extend, top-up, confirm).

The first request with a key stores its answer in the same transaction as its effects; a
retry with the same key gets that answer back and changes nothing. A key is claimed by
inserting its row first: a concurrent duplicate waits on the primary key until the first
commits, then replays it. A request that fails with an error stores nothing, so a retry
runs again (as Stripe does for requests that never executed).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import IdempotencyRecord
from gameops.server.errors import Unprocessable

Answer = tuple[int, dict[str, Any]]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="retries with the same key return the first answer and never charge twice",
    ),
]
REPLAYED = "Idempotent-Replayed"


def fingerprint(scope: str, actor_id: uuid.UUID | None, request: object) -> str:
    canonical = json.dumps(
        {"scope": scope, "actor": str(actor_id), "request": request}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def answer_once(
    db: AsyncSession,
    key: str | None,
    print_: str,
    actor_id: uuid.UUID | None,
    produce: Callable[[], Awaitable[Answer]],
) -> JSONResponse:
    """Run ``produce`` once per key; ``print_`` (see :func:`fingerprint`) identifies the
    request, and a key reused for another request is refused with 422."""
    if key is None:
        return _respond(await produce(), replayed=None)
    record = await _stored(db, key) or await _claim(db, key, print_, actor_id)
    if record.status_code:  # an answer was stored by an earlier request
        return _replay(record, print_)
    status_code, body = await produce()
    record.status_code, record.body = status_code, body
    return _respond((status_code, body), replayed=False)


async def stored_answer(db: AsyncSession, key: str) -> bool:
    """Whether a request with this key has already been answered."""
    record = await _stored(db, key)
    return record is not None and bool(record.status_code)


async def purge_older_than(db: AsyncSession, cutoff: datetime) -> int:
    result = await db.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _stored(db: AsyncSession, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(IdempotencyRecord.key == key)
    record: IdempotencyRecord | None = await db.scalar(
        query.execution_options(populate_existing=True)
    )
    return record


async def _claim(
    db: AsyncSession, key: str, print_: str, actor_id: uuid.UUID | None
) -> IdempotencyRecord:
    record = IdempotencyRecord(
        key=key, fingerprint=print_, actor_id=actor_id, status_code=0, body={}
    )
    try:
        async with db.begin_nested():
            db.add(record)
    except IntegrityError:
        # A concurrent request with this key committed first: answer as it did.
        stored = await _stored(db, key)
        if stored is None:
            raise
        return stored
    return record


def _replay(record: IdempotencyRecord, print_: str) -> JSONResponse:
    if record.fingerprint != print_:
        raise Unprocessable(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new request"
        )
    return _respond((record.status_code, record.body), replayed=True)


def _respond(answer: Answer, replayed: bool | None) -> JSONResponse:
    headers = {} if replayed is None else {REPLAYED: str(replayed).lower()}
    return JSONResponse(answer[1], status_code=answer[0], headers=headers)
