"""Agents' sync_requests are answered many to a transaction: a reconnect storm's requests
cost a few commits, and each agent still hears what it should be doing (its session, how
the one it knew ended, its staff commands, its tamper lock); a batch the database fails
is answered again one request at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import httpx

from gameops.protocol import (
    NoSession,
    Payload,
    SessionExpired,
    StationCommand,
    SyncRequest,
    SyncResponse,
    TamperClear,
)
from gameops.server.realtime.agent_handlers import sync_answers
from gameops.server.realtime.sync_requests import Request, SyncAnswers
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer, create_station_with_token
from tests.support.sessions import end_soon, start_session
from tests.support.waiting import eventually

IDLE = 12


async def test_a_storm_of_sync_requests_is_answered_in_a_few_transactions(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    idle = [await create_station_with_token(admin) for _ in range(IDLE)]
    playing, queued, stale_lock, ended = [await create_station_with_token(admin) for _ in range(4)]
    session = await start_session(admin, playing[0])
    message = await admin.post(
        f"/api/v1/stations/{queued[0]}/commands", json={"kind": "message", "text": "Closing"}
    )
    assert message.json()["status"] == "QUEUED"  # its agent is offline
    over = await start_session(admin, ended[0])
    await end_soon(live_server, str(over["id"]), 0.1)
    await eventually(
        lambda: admin.get(f"/api/v1/sessions/{over['id']}"),
        lambda answer: answer.json()["status"] == "EXPIRED",
    )
    everyone = [*idle, playing, queued, stale_lock, ended]
    agents = await asyncio.gather(
        *(ScriptedAgent.connect(live_server.ws_url, s, t) for s, t in everyone)
    )
    asking = {
        stale_lock[0]: SyncRequest(tamper_locked=True),  # the server holds no lock
        ended[0]: SyncRequest(last_known_session_id=uuid.UUID(str(over["id"]))),
    }
    syncs = live_server.app_state.agent_services.syncs
    before = syncs.transactions
    await asyncio.gather(
        *(a.send(asking.get(s, SyncRequest())) for a, (s, _) in zip(agents, everyone, strict=True))
    )
    by_station = dict(zip([s for s, _ in everyone], agents, strict=True))
    for station_id, _ in idle:
        await by_station[station_id].expect(NoSession)
    running = await by_station[playing[0]].expect(SyncResponse)
    assert str(running.session.id) == session["id"]
    command = await by_station[queued[0]].expect(StationCommand)
    assert (str(command.id), command.text, command.by) == (message.json()["id"], "Closing", "admin")
    sent = await admin.get(f"/api/v1/commands/{message.json()['id']}")
    assert sent.json()["status"] == "SENT"
    await by_station[stale_lock[0]].expect(NoSession)
    await by_station[stale_lock[0]].expect(TamperClear)
    expired = await by_station[ended[0]].expect(SessionExpired)
    assert str(expired.id) == over["id"]
    assert syncs.transactions - before < len(everyone) // 2
    for agent in agents:
        await agent.close()


async def test_a_batch_the_database_fails_is_answered_one_request_at_a_time(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    stations = [await create_station_with_token(admin) for _ in range(3)]
    services = live_server.app_state.agent_services
    answer_many = sync_answers(services.settings)
    batches: list[int] = []

    async def failing_together(
        db: object, batch: Sequence[Request]
    ) -> list[list[Payload] | Exception]:
        batches.append(len(batch))
        if len(batch) > 1:
            raise RuntimeError("the database went away")
        return await answer_many(db, batch)  # type: ignore[arg-type]

    syncs = SyncAnswers(services.database, failing_together)
    unknown = uuid.uuid4()
    answers = await asyncio.gather(
        *(syncs.answer(uuid.UUID(s), SyncRequest()) for s, _ in stations),
        syncs.answer(unknown, SyncRequest()),
        return_exceptions=True,
    )
    assert batches[0] > 1 and batches[1:] and set(batches[1:]) == {1}
    assert all(isinstance(a, list) and isinstance(a[0], NoSession) for a in answers[:3])
    assert isinstance(answers[3], Exception) and "not found" in str(answers[3])
