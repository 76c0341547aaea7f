"""Expiring a batch of sessions costs the same statements whether it holds two or ten: the
work per session is done for the whole batch at once, not a query per session, and new
rows are inserted many to a statement (on SQLite too: see ``db.engine.create_engine``)."""

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


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_batch_of_expiries_costs_the_same_statements_however_large(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    small, agents = await _due_sessions(live_server, admin, 2)
    large, more_agents = await _due_sessions(live_server, admin, 10)
    for_two = await _statements_to_expire(live_server, small)
    for_ten = await _statements_to_expire(live_server, large)
    assert for_ten == for_two
    for agent in agents + more_agents:
        await agent.close()
