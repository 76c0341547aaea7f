"""Where recorded domain events go: run by the transaction just before it commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.bus import DOMAIN, EVENTS
from gameops.server.db.models import Event, Station
from gameops.server.events.base import DomainEvent, take_recorded
from gameops.server.events.schemas import EventPublic
from gameops.server.outbox.store import stage, write_staged

E = TypeVar("E", bound=DomainEvent)
_EVENTS = cast(Table, Event.__table__)
_INSERT_AUDIT = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_LOCKED = "gameops_locked_stations"
Handler = Callable[[AsyncSession, Any], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[Any]], Awaitable[None]]


class EventDispatcher:
    """Each recorded event becomes, in the same transaction: its audit-log row (and that
    row on the dashboards' feed), a DOMAIN message for subscribers on every replica, and a
    call to each in-transaction handler of its type. Handlers may record more events."""

    def __init__(self) -> None:
        self._handlers: defaultdict[type[DomainEvent], list[Handler]] = defaultdict(list)
        self._batch_handlers: defaultdict[type[DomainEvent], list[BatchHandler]] = defaultdict(list)

    def handle(
        self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]
    ) -> None:
        """``handler`` runs inside the transaction that recorded an ``event_type``: what it
        writes commits with the change, and if it raises, the change does not happen."""
        self._handlers[event_type].append(handler)

    def handle_batch(
        self, event_type: type[E], handler: Callable[[AsyncSession, list[E]], Awaitable[None]]
    ) -> None:
        """As :meth:`handle`, but ``handler`` is called once with every ``event_type`` the
        transaction recorded together (in order), after their per-event handlers: for work
        that takes a query, one query for a batch (a burst of expiries)."""
        self._batch_handlers[event_type].append(handler)

    async def settle(self, db: AsyncSession) -> None:
        audit_rows: list[dict[str, Any]] = []
        # Held here until the commit: the session's identity map keeps an object only while
        # something refers to it, and the handlers' ``db.get(Station, ...)`` then finds it
        # without a query (a batch of expiries: one query, not two per session).
        locked = _locked(db)
        while recorded := take_recorded(db):
            # What the change wrote is in the database (the handlers read it, as their
            # queries' autoflush would have); what the handlers add, with the audit and
            # outbox rows, goes in later, a statement per table, not piecemeal at each query.
            await db.flush()
            with db.no_autoflush:
                about = {e.station_id for e in recorded if e.station_id is not None}
                await _lock_stations(db, about - locked.keys(), locked)
                for event in recorded:
                    row = _audit_row(event)
                    if row is not None:
                        audit_rows.append(row)
                    if event.broadcast:
                        stage(db, DOMAIN, event.to_message())
                    for handler in self._handlers[type(event)]:
                        await handler(db, event)
                await self._handle_batches(db, recorded)
        if audit_rows:
            # One Core INSERT for the rows of every round, not an ORM object each: the
            # feed shows each row with its id.
            ids = (await db.execute(_INSERT_AUDIT, audit_rows)).scalars().all()
            for row, row_id in zip(audit_rows, ids, strict=True):
                public = EventPublic.model_validate({**row, "id": row_id})
                stage(db, EVENTS, public.model_dump(mode="json"))
        await write_staged(db)

    async def _handle_batches(self, db: AsyncSession, recorded: list[DomainEvent]) -> None:
        by_type: defaultdict[type[DomainEvent], list[DomainEvent]] = defaultdict(list)
        for event in recorded:
            if type(event) in self._batch_handlers:
                by_type[type(event)].append(event)
        for event_type, events in by_type.items():
            for batch_handler in self._batch_handlers[event_type]:
                await batch_handler(db, events)


def hold_locked(db: AsyncSession, stations: Iterable[Station]) -> None:
    """The transaction has read ``stations`` FOR UPDATE: it holds their row locks until it
    ends, and the dispatcher need not take them again."""
    _locked(db).update((station.id, station) for station in stations)


def _locked(db: AsyncSession) -> dict[uuid.UUID, Station]:
    """The stations this transaction holds locked (a session may outlive a transaction)."""
    transaction = db.sync_session.get_transaction()
    held = db.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = db.info[_LOCKED] = (transaction, {})
    stations: dict[uuid.UUID, Station] = held[1]
    return stations


async def _lock_stations(
    db: AsyncSession, station_ids: set[uuid.UUID], locked: dict[uuid.UUID, Station]
) -> None:
    """Hold the row lock of each station an event is about, until the commit, before any
    of its event and outbox rows takes an id. Two transactions about one station then take
    their ids in the order they commit, so the relay publishes a station's events (the
    dashboards' feed, the agent's commands) in the order they happened, even when a writer
    (an agent's ack, a tamper report) did not lock the station for its own sake. In id
    order, as everywhere, so that two transactions cannot deadlock on them."""
    ids = sorted(station_ids)
    if ids:
        query = select(Station).where(Station.id.in_(ids)).order_by(Station.id)
        locked.update(
            (station.id, station) for station in await db.scalars(query.with_for_update())
        )


def _audit_row(event: DomainEvent) -> dict[str, Any] | None:
    line = event.audit()
    if line is None:
        return None
    return {
        "type": line.type,
        "created_at": utc_now(),
        "station_id": event.station_id,
        "session_id": event.session_id,
        "actor_id": event.actor_id,
        "data": line.data,
    }
