"""A stopped client's PC still on the network: the venue router (our RouterOS simulator,
through the real librouteros client) is asked while the station shows "client stopped"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from gameops.protocol import AgentHello, Goodbye
from gameops.server.settings import Settings
from gameops.sim.routeros import RouterOsSimulator
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually

PC_MAC = "3C:7C:3F:AA:BB:01"


@pytest.fixture
async def router() -> AsyncIterator[RouterOsSimulator]:
    sim = RouterOsSimulator(password="router-pass")
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def settings(settings: Settings, router: RouterOsSimulator) -> Settings:
    return settings.model_copy(
        update={
            "venue_router_host": "127.0.0.1",
            "venue_router_port": router.port,
            "venue_router_tls": False,
            "venue_router_password": SecretStr("router-pass"),
            "stopped_client_check_seconds": 0.2,
        }
    )


async def test_the_floor_hears_when_the_router_still_sees_a_stopped_pc(
    live_server: LiveServer, router: RouterOsSimulator
) -> None:
    admin = await live_server.admin_client()
    station_id, token = await live_server.create_pc_station()
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.send(AgentHello(agent_version="t", os="Windows", specs={"macs": [PC_MAC]}))
    await agent.send(Goodbye(reason="service_stop"))
    await agent.close()

    async def stop() -> dict[str, Any]:
        body = (await admin.get(f"/api/v1/stations/{station_id}")).json()
        return body["agent_stop"] or {}

    unseen = await eventually(stop, lambda s: "router_checked_at" in s)
    assert unseen["router_sees"] is False
    router.add_neighbour(PC_MAC.lower().replace(":", "-"), "10.0.0.21")  # the PC is up
    seen = await eventually(stop, lambda s: s.get("router_sees") is True)
    assert seen["reason"] == "service_stop"
    params = {"type": "STOPPED_CLIENT_ON_NETWORK", "station_id": station_id, "order": "asc"}
    events = (await admin.get("/api/v1/events", params=params)).json()["items"]
    assert [e["data"] for e in events] == [
        {"seen": False, "mac": None},
        {"seen": True, "mac": PC_MAC},
    ]
