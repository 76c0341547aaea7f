"""Rows added together are inserted many to a statement, and each ORM object still gets
its own row's id (on SQLite too, where SQLAlchemy would insert them one at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from gameops.server.db.engine import create_engine, create_sessionmaker
from gameops.server.db.models import Event, OutboxMessage
from gameops.server.events.domain import EventType

ROWS = 300


async def test_events_and_outbox_rows_are_inserted_in_a_few_statements_with_their_ids(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    inserts = [0]

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        inserts[0] += statement.lstrip().upper().startswith("INSERT")

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with create_sessionmaker(engine)() as db, db.begin():
            events = [Event(type=EventType.AGENT_CONNECTED, data={"n": n}) for n in range(ROWS)]
            messages = [OutboxMessage(channel="test", payload={"n": n}) for n in range(ROWS)]
            db.add_all(events)
            db.add_all(messages)
            await db.flush()
            assert inserts[0] <= 4, f"{inserts[0]} INSERTs for {2 * ROWS} rows"
            stored = dict((await db.execute(select(Event.id, Event.data))).all())
            sent = dict((await db.execute(select(OutboxMessage.id, OutboxMessage.payload))).all())
        assert [stored[e.id]["n"] for e in events] == list(range(ROWS))  # each its own id
        assert [sent[m.id]["n"] for m in messages] == list(range(ROWS))
        assert [m.id for m in messages] == sorted(m.id for m in messages)  # in the order added
    finally:
        await engine.dispose()
