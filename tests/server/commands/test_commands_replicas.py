"""A staff command sent through one replica reaches the agent connected to another, and its
answer, recorded there, is seen through the first (PostgreSQL and Redis)."""

from __future__ import annotations

from gameops.protocol import CommandResult, StationCommand
from tests.server.test_replicas import backend, replicas  # noqa: F401 - fixtures
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually


async def test_a_command_crosses_replicas_and_its_answer_comes_back(
    replicas: list[LiveServer],  # noqa: F811
) -> None:
    a, b = replicas
    station_id, token = await a.create_pc_station()
    agent = await ScriptedAgent.connect(b.ws_url, station_id, token)
    admin_a = await a.admin_client()
    await eventually(
        lambda: admin_a.get(f"/api/v1/stations/{station_id}"),
        lambda r: r.json()["agent_connected"],
    )
    sent = await admin_a.post(f"/api/v1/stations/{station_id}/commands", json={"kind": "lock"})
    assert sent.status_code == 201, sent.text
    wire = await agent.expect(StationCommand)
    assert str(wire.id) == sent.json()["id"]
    await agent.send(CommandResult(id=wire.id, ok=True, detail="locked"))
    done = await eventually(
        lambda: admin_a.get(f"/api/v1/commands/{wire.id}"), lambda r: r.json()["status"] == "DONE"
    )
    assert done.json()["detail"] == "locked"
    await agent.close()
