"""Agents' acks: recorded in batches; only the ack that may start a waiting session's clock
is handled in a transaction of its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gameops.protocol import Ack, SessionEnd, SessionStart
from gameops.server.db.models import AgentCommand
from gameops.server.realtime import agent_handlers
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.sessions import start_session
from tests.support.waiting import eventually


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_only_the_ack_that_starts_a_clock_takes_a_transaction(
    live_server: LiveServer, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    handled: list[Ack] = []
    handle_ack = agent_handlers.HANDLERS[Ack]

    async def counted(services: Any, db: Any, station_id: Any, ack: Ack) -> Any:
        handled.append(ack)
        return await handle_ack(services, db, station_id, ack)

    monkeypatch.setitem(agent_handlers.HANDLERS, Ack, counted)
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    sale = await start_session(admin, station_id)
    await agent.expect(SessionStart)

    async def waiting_since() -> object:
        return (await admin.get(f"/api/v1/sessions/{sale['id']}")).json()["waiting_since"]

    await eventually(waiting_since, lambda since: since is None)  # the ack started the clock
    assert (await admin.delete(f"/api/v1/sessions/{sale['id']}")).status_code == 200
    await agent.expect(SessionEnd)

    async def acked() -> list[tuple[str, bool]]:
        async with live_server.services.database.sessionmaker() as db:
            commands = await db.scalars(select(AgentCommand).order_by(AgentCommand.created_at))
            return [(c.type, c.acked_at is not None) for c in commands.all()]

    both = [("session_start", True), ("session_end", True)]
    await eventually(acked, lambda rows: rows == both)  # both recorded, in a batch
    assert len(handled) == 1  # the end's ack found no clock waiting: no transaction
    await agent.close()
