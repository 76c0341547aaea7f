"""What one cash sale costs the database, counted in its transaction: each table the sale
writes gets one INSERT (its audit rows together, its outbox messages of every channel
together, not a flush each time a handler queries), nothing written is read back, and the
station locked for the sale is not locked a second time by the events' dispatcher."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from gameops.server.db.models import User
from gameops.server.sessions import service
from gameops.server.sessions.schemas import SessionStartRequest
from tests.support.live_server import LiveServer, create_station_with_token


async def _statements_to_sell(live_server: LiveServer, station_id: str) -> list[str]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()[:3]))

    database = live_server.services.database
    async with database.sessionmaker() as db:
        staff = await db.scalar(select(User).where(User.username == "admin"))
    assert staff is not None
    request = SessionStartRequest(station_id=uuid.UUID(station_id), duration_minutes=60)
    async with database.transaction() as db:
        connection = (await db.connection()).sync_connection
        assert connection is not None
        event.listen(connection, "before_cursor_execute", seen)
        await service.start_session(live_server.settings, db, request, staff)
    return statements


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_sale_writes_each_table_once_and_reads_back_nothing(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    station_id, _ = await create_station_with_token(admin)
    statements = await _statements_to_sell(live_server, station_id)
    counts = Counter(statements)
    assert counts["INSERT INTO events"] == 1
    assert counts["INSERT INTO outbox"] == 1  # domain, agent and feed messages together
    assert counts["SELECT stations.id, stations.name,"] == 1  # locked once
    assert not [s for s in statements if s.startswith(("UPDATE sessions", "SELECT payments"))]
    assert len(statements) <= 15, statements
