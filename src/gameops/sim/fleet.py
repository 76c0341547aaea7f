"""Fleet simulator: N simulated PC agents in one process and one event loop, for demos and
load tests. Each is the real agent (state machine, WebSocket link, backoff) with the
Simulated system-control backend, on a station named SIM-0001, SIM-0002, ...

Stations are created (or reused) and given fresh agent tokens through the REST API.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from rich.console import Console
from rich.live import Live
from rich.table import Table

from gameops.agent.config import parse_config
from gameops.agent.control import SimulatedControl
from gameops.agent.runtime import Agent, AgentParts
from gameops.agent.session import Phase
from gameops.logging import configure_logging

log = structlog.get_logger(__name__)

PAGE_SIZE = 500
SIM_SPECS = {"simulated": True, "cpu_model": "Simulated CPU", "cpu_threads": 8, "ram_mb": 16384}


class FleetError(Exception):
    """The fleet cannot start (server unreachable, bad credentials...)."""


@dataclass(frozen=True)
class SimStation:
    id: str
    name: str
    token: str


def station_names(count: int) -> list[str]:
    return [f"SIM-{number:04d}" for number in range(1, count + 1)]


async def provision(client: Any, count: int, hourly_rate: int = 600) -> list[SimStation]:
    """Reuse or create SIM-0001..SIM-<count>; issue each a fresh agent token."""
    existing = await _existing_stations(client)
    stations = []
    for name in station_names(count):
        station_id = existing.get(name)
        if station_id is None:
            body = {"name": name, "type": "PC", "hourly_rate": hourly_rate}
            station_id = str(_ok(await client.post("/api/v1/stations", json=body))["id"])
        issued = _ok(await client.post(f"/api/v1/stations/{station_id}/agent-token"))
        stations.append(SimStation(station_id, name, str(issued["token"])))
    return stations


async def _existing_stations(client: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    page, pages = 1, 1
    while page <= pages:
        params = {"page": page, "per_page": PAGE_SIZE}
        body = _ok(await client.get("/api/v1/stations", params=params))
        found.update({item["name"]: str(item["id"]) for item in body["items"]})
        pages = int(body["meta"]["pages"])
        page += 1
    return found


def _ok(response: Any) -> dict[str, Any]:
    if response.status_code >= 400:
        raise FleetError(f"{response.request.method} {response.request.url}: "
                         f"HTTP {response.status_code} {response.text[:200]}")  # fmt: skip
    body: dict[str, Any] = response.json()
    return body


def simulated_agent(server: str, station: SimStation) -> Agent:
    config = parse_config(
        {
            "station": {"id": station.id, "name": station.name},
            "backend": {"url": server, "token": station.token},
            "features": {"show_overlay": False},
            "system": {"control": "simulated"},
        }
    )
    parts = AgentParts(
        control=SimulatedControl(), state=None, specs=SIM_SPECS, blocking_control=False
    )
    return Agent(config, parts)


@dataclass(frozen=True)
class FleetCounts:
    agents: int
    connected: int
    in_session: int
    errors: int  # connection attempts that failed, summed over the fleet
    queued: int  # messages waiting for a connection


def tally(agents: Sequence[Agent]) -> FleetCounts:
    return FleetCounts(
        agents=len(agents),
        connected=sum(agent.link.connected for agent in agents),
        in_session=sum(agent.machine.phase is Phase.ACTIVE for agent in agents),
        errors=sum(agent.link.attempts - agent.link.connections for agent in agents),
        queued=sum(agent.link.queued for agent in agents),
    )


def render(counts: FleetCounts, server: str) -> Table:
    table = Table(title=f"GameOps fleet simulator: {server}", show_lines=False)
    for column in ("agents", "connected", "in session", "errors", "queued"):
        table.add_column(column, justify="right")
    table.add_row(
        str(counts.agents),
        f"[green]{counts.connected}[/]",
        f"[cyan]{counts.in_session}[/]",
        f"[red]{counts.errors}[/]" if counts.errors else "0",
        str(counts.queued),
    )
    return table


async def run_fleet(
    agents: Sequence[Agent],
    *,
    server: str,
    duration: float | None = None,
    ramp_seconds: float = 5.0,
    console: Console | None = None,
) -> FleetCounts:
    """Run ``agents`` (starts spread over ``ramp_seconds``) until ``duration`` or cancelled."""
    tasks = [asyncio.create_task(_start_later(agent, ramp_seconds)) for agent in agents]
    loop = asyncio.get_running_loop()
    ends_at = None if duration is None else loop.time() + duration
    try:
        with Live(render(tally(agents), server), console=console, refresh_per_second=2) as live:
            while ends_at is None or loop.time() < ends_at:
                await asyncio.sleep(0.5)
                live.update(render(tally(agents), server))
    finally:
        final = tally(agents)
        for agent in agents:
            agent.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    return final


async def _start_later(agent: Agent, ramp_seconds: float) -> int:
    # Spread the first connections too, as a venue's PCs would not boot in the same ms.
    await asyncio.sleep(random.uniform(0, ramp_seconds))
    return await agent.run()


async def run_async(
    count_: int, server: str, username: str, password: str, **options: Any
) -> FleetCounts:
    import httpx  # only the simulator needs an HTTP client

    async with httpx.AsyncClient(base_url=server.rstrip("/"), timeout=30) as client:
        try:
            credentials = {"username": username, "password": password}
            login = _ok(await client.post("/api/v1/auth/login", json=credentials))
            client.headers["Authorization"] = f"Bearer {login['access_token']}"
            stations = await provision(client, count_)
        except httpx.HTTPError as err:
            raise FleetError(f"cannot reach {server}: {err!r}") from err
    agents = [simulated_agent(server, station) for station in stations]
    return await run_fleet(agents, server=server, **options)


def run(
    count: int,
    server: str,
    username: str,
    password: str,
    *,
    duration: float | None = None,
    ramp_seconds: float = 5.0,
    console: Console | None = None,
    log_level: str = "WARNING",
) -> int:
    """Run ``count`` simulated agents against ``server`` until Ctrl+C (or ``duration`` s).

    Returns the exit code: 0, or 1 when the fleet could not start.
    """
    console = console or Console(stderr=True)
    # A thousand agents logging every connect would bury the live table: warnings only.
    configure_logging(log_level)
    if count < 1:
        console.print("[red]--count must be at least 1[/]")
        return 1
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_async(
                    count, server, username, password,
                    duration=duration, ramp_seconds=ramp_seconds, console=console,
                )
            )  # fmt: skip
    except FleetError as err:
        console.print(f"[red]fleet simulator: {err}[/]")
        return 1
    return 0
