"""Typed domain events: what a domain records when its state changes.

A service changes state and records what happened (``record(db, SessionStarted(...))``); it
never calls the parts that react. At the end of the transaction, before its commit, the
dispatcher (``events/dispatch.py``) turns each event into its audit-log row, an outbox
message for subscribers on every replica, and calls the in-transaction handlers the
composition root registered (station control). See CONVENTIONS.md.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar, Union

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.events.domain import EventType

_RECORDED = "gameops_domain_events"
E = TypeVar("E", bound="DomainEvent")


class AuditLine(NamedTuple):
    """The line a domain event writes in the audit log (the events table)."""

    type: EventType
    data: dict[str, Any]


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Base of every domain event; the class name is its ``type`` on the bus."""

    # False: only an audit line, nobody subscribes to it on the bus.
    broadcast: ClassVar[bool] = True
    station_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None

    def audit(self) -> AuditLine | None:
        """The event's audit-log line, or None if it has none."""
        return None

    def to_message(self) -> dict[str, Any]:
        message: dict[str, Any] = msgspec.to_builtins(self)
        return message


class Noted(DomainEvent, frozen=True, kw_only=True):
    """An audit-log line with no typed event of its own (users, pricing, device health)."""

    broadcast: ClassVar[bool] = False
    audit_type: EventType
    data: dict[str, Any] = {}

    def audit(self) -> AuditLine:
        return AuditLine(self.audit_type, self.data)


def record(db: AsyncSession, event: DomainEvent) -> None:
    """Record ``event`` in this transaction: it takes effect if, and when, the change commits."""
    db.info.setdefault(_RECORDED, []).append(event)


def take_recorded(db: AsyncSession) -> list[DomainEvent]:
    recorded: list[DomainEvent] = db.info.pop(_RECORDED, [])
    return recorded


def decode(message: dict[str, Any], types: Sequence[type[E]]) -> E | None:
    """The typed event in a bus message, if it is one of ``types``; else None."""
    if message.get("type") not in {kind.__name__ for kind in types}:
        return None
    try:
        event: E = msgspec.convert(message, Union[tuple(types)])  # noqa: UP007
    except msgspec.ValidationError:
        return None
    return event


async def typed(
    messages: AsyncIterable[dict[str, Any]], types: Sequence[type[E]]
) -> AsyncIterator[E]:
    """The events of ``types`` among a DOMAIN subscription's messages."""
    async for message in messages:
        event = decode(message, types)
        if event is not None:
            yield event
