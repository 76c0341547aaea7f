"""The login view's prices follow the rate plan's clock: when a happy hour starts, every
connected PC gets a fresh ``station_info`` at that moment (the board's wall clock injected
to stand a second before it; the agents are real WebSocket clients)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from gameops.protocol import StationInfo
from gameops.server.play.service import PlayRules
from gameops.server.realtime.price_board import PriceBoard
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import LiveServer


async def lounge_pc(live_server: LiveServer, admin: httpx.AsyncClient, name: str) -> ScriptedAgent:
    body = {"name": name, "type": "PC", "hourly_rate": 600, "zone": "Lounge"}
    created = await admin.post("/api/v1/stations", json=body)
    assert created.status_code == 201, created.text
    station_id = created.json()["id"]
    token = (await admin.post(f"/api/v1/stations/{station_id}/agent-token")).json()["token"]
    agent = await ScriptedAgent.connect(live_server.ws_url, station_id, token)
    await agent.say_hello()
    return agent


def clock_before(moment: datetime, seconds: float) -> Callable[[], datetime]:
    """The real clock, moved to stand ``seconds`` before ``moment`` now."""
    offset = moment - datetime.now(UTC) - timedelta(seconds=seconds)
    return lambda: datetime.now(UTC) + offset


async def test_a_happy_hour_reaches_the_login_views_when_it_starts_and_ends(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    # A window two hours ahead: the real clock (hellos, the app's own board) is outside it.
    starts = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=1)
    plan = {
        "zone": "Lounge",
        "name": "Lounge",
        "member_hourly_rate": 600,
        "guest_hourly_rate": 800,
        "rules": [
            {
                "name": "Happy hour",
                "start": starts.strftime("%H:%M"),
                "end": ends.strftime("%H:%M"),
                "member_hourly_rate": 300,
                "guest_hourly_rate": 400,
            }
        ],
    }
    assert (await admin.post("/api/v1/pricing/plans", json=plan)).status_code == 201
    agents = [await lounge_pc(live_server, admin, name) for name in ("PC-71", "PC-72")]
    for agent in agents:
        hello = await agent.expect(StationInfo)
        assert (hello.member_hourly_rate, hello.guest_hourly_rate) == (600, 800)
        assert "Now: Happy hour" not in hello.lines

    rules = PlayRules.from_settings(live_server.settings)
    services = live_server.services
    for moment, rates, happy in ((starts, (300, 400), True), (ends, (600, 800), False)):
        clock = clock_before(moment, 1.0)
        board = PriceBoard(services.database, services.hub, rules, clock)
        board.start()
        try:
            for agent in agents:
                fresh = await agent.expect(StationInfo, timeout=10)
                assert clock() >= moment  # at the change, not before it
                assert (fresh.member_hourly_rate, fresh.guest_hourly_rate) == rates
                assert fresh.lines[0] == f"Members ${rates[0] // 100}.00/h"
                assert ("Now: Happy hour" in fresh.lines) is happy
        finally:
            await board.stop()
    for agent in agents:
        await agent.close()
