"""Fleet simulator: N simulated PC agents in one process and one event loop, for demos and
load tests. Each is the real agent (state machine, WebSocket link, backoff) with the
Simulated system-control backend, on a station named SIM-0001, SIM-0002, ...

Stations are created (or reused) and given fresh agent tokens through the REST API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from rich.console import Console
from rich.live import Live
from rich.text import Text

from gameops.agent.config import parse_config
from gameops.agent.control import SimulatedControl
from gameops.agent.runtime import Agent, AgentParts
from gameops.agent.session import Phase
from gameops.logging import configure_logging

log = structlog.get_logger(__name__)

PAGE_SIZE = 500
STATUS_SECONDS = 0.5  # how often the live line is refreshed
# Ctrl+C: the agents get this long to stop cleanly (a goodbye to the server), then the rest
# are cancelled, so the simulator is gone within a second even with a thousand reconnecting.
STOP_DEADLINE_SECONDS = 0.5
SIM_SPECS = {"simulated": True, "cpu_model": "Simulated CPU", "cpu_threads": 8, "ram_mb": 16384}


def sim_network(station_id: str) -> dict[str, Any]:
    """A made-up MAC and an address on the loopback network (127.0.0.0/8) for a simulated
    PC: staff can wake a switched-off one, relayed by another, and no packet leaves the host."""
    raw = uuid.UUID(station_id).bytes
    mac = ":".join(f"{b:02x}" for b in (0x02, *raw[:5]))  # locally administered
    return {"macs": [mac], "interfaces": {mac: f"127.{raw[5]}.{raw[6]}.{raw[7] or 1}/8"}}


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
        control=SimulatedControl(),
        state=None,
        specs={**SIM_SPECS, **sim_network(station.id)},
        blocking_control=False,
    )
    return Agent(config, parts)


@dataclass(frozen=True)
class FleetCounts:
    agents: int
    connected: int
    in_session: int
    reconnecting: int  # tried to connect and are not connected now
    errors: int  # connection attempts that failed, summed over the fleet
    queued: int  # messages waiting for a connection


def tally(agents: Sequence[Agent]) -> FleetCounts:
    return FleetCounts(
        agents=len(agents),
        connected=sum(agent.link.connected for agent in agents),
        in_session=sum(agent.machine.phase is Phase.ACTIVE for agent in agents),
        reconnecting=sum(a.link.attempts > 0 and not a.link.connected for a in agents),
        errors=sum(agent.link.attempts - agent.link.connections for agent in agents),
        queued=sum(agent.link.queued for agent in agents),
    )


def status_line(counts: FleetCounts, server: str) -> Text:
    """One line: ``fleet http://...: 20 agents · 18 connected · 3 in session · ...``."""
    line = Text(f"fleet {server}: {counts.agents} agents")
    for figure, label, style in (
        (counts.connected, "connected", "green"),
        (counts.in_session, "in session", "cyan"),
        (counts.reconnecting, "reconnecting", "yellow"),
        (counts.errors, "failed attempts", "red"),
        (counts.queued, "queued", ""),
    ):
        line.append(" · ")
        line.append(f"{figure} {label}", style=style if figure else "")
    return line


async def run_fleet(
    agents: Sequence[Agent],
    *,
    server: str,
    duration: float | None = None,
    ramp_seconds: float = 5.0,
    console: Console | None = None,
    stop: asyncio.Event | None = None,
) -> FleetCounts:
    """Run ``agents`` (starts spread over ``ramp_seconds``) with a live status line until
    ``duration``, ``stop`` or cancellation; then stop them within a second."""
    console = console or Console(stderr=True)
    tasks = [asyncio.create_task(_start_later(agent, ramp_seconds)) for agent in agents]
    try:
        await _show_status(agents, server, console, stop or asyncio.Event(), duration)
    finally:
        final = tally(agents)
        took = await _stop_all(agents, tasks)
        console.print(
            status_line(final, server).append(f" · stopped in {took:.2f} s"), soft_wrap=True
        )
    return final


async def _show_status(
    agents: Sequence[Agent],
    server: str,
    console: Console,
    stop: asyncio.Event,
    duration: float | None,
) -> None:
    """A live line on a terminal; elsewhere (a pipe, a log file) a line at each change."""
    loop = asyncio.get_running_loop()
    ends_at = None if duration is None else loop.time() + duration
    live = Live(console=console, auto_refresh=False, transient=True)
    shown = None
    with live if console.is_terminal else contextlib.nullcontext():
        while not stop.is_set() and (ends_at is None or loop.time() < ends_at):
            line = status_line(tally(agents), server)
            if console.is_terminal:
                live.update(line, refresh=True)
            elif line.plain != shown:
                console.print(line, soft_wrap=True)
            shown = line.plain
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), STATUS_SECONDS)


async def _stop_all(agents: Sequence[Agent], tasks: list[asyncio.Task[int]]) -> float:
    """Stop every agent; cancel the ones not done by the deadline. Returns the seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    with _quiet("gameops.agent"):  # a thousand "connect failed" lines while stopping help nobody
        for agent in agents:
            agent.stop()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_DEADLINE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return loop.time() - started


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl+C (and SIGTERM) set ``stop``: the agents are stopped, not torn down mid-call."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl+C cancels the run instead, same end.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


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
    stop = asyncio.Event()
    _stop_on_signals(stop)
    return await run_fleet(agents, server=server, stop=stop, **options)


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
