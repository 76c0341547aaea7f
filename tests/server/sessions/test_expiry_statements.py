"""Expiring a batch of sessions costs the same queries whether it holds two or ten: the
work per session is done for the whole batch at once, not a query per session. (On SQLite
each new row is an INSERT of its own: SQLite cannot return the ids of a many-row INSERT in
order. PostgreSQL inserts them many to a statement.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from gameops.protocol import SessionStart, utc_now
from gameops.server.sessions import service
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.sessions import set_scheduled_end, start_session


async def _due_sessions(
    live_server: LiveServer, admin: httpx.AsyncClient, count: int
) -> tuple[list[uuid.UUID], list[ScriptedAgent]]:
    """``count`` sessions running on PCs whose agents took them, all due now."""
    ids, agents = [], []
    for _ in range(count):
        station_id, token = await create_station_with_token(admin)
        agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
        session = await start_session(admin, station_id)
        await agent.expect(SessionStart)
        await set_scheduled_end(live_server.settings.database_url, str(session["id"]), utc_now())
        ids.append(uuid.UUID(str(session["id"])))
        agents.append(agent)
    return ids, agents


async def _statements_to_expire(live_server: LiveServer, ids: list[uuid.UUID]) -> list[str]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()[:3]))

    async with live_server.services.database.transaction() as db:
        connection = (await db.connection()).sync_connection
        assert connection is not None
        event.listen(connection, "before_cursor_execute", seen)
        expired = await service.expire_due(db, set(ids))
    assert expired == set(ids)
    return statements


def _queries(statements: list[str]) -> list[str]:
    return [statement for statement in statements if not statement.startswith("INSERT")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_batch_of_expiries_costs_the_same_statements_however_large(
    live_server: LiveServer, admin: httpx.AsyncClient, backend: str
) -> None:
    small, agents = await _due_sessions(live_server, admin, 2)
    large, more_agents = await _due_sessions(live_server, admin, 10)
    for_two = await _statements_to_expire(live_server, small)
    for_ten = await _statements_to_expire(live_server, large)
    if backend == "sqlite":
        for_two, for_ten = _queries(for_two), _queries(for_ten)
    assert for_ten == for_two
    for agent in agents + more_agents:
        await agent.close()
