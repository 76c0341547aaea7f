"""``gameops demo``: a living venue in one command.

Starts the server on the embedded default (SQLite in a fresh data directory, in-process
bus) and fills it through the public REST API: a dozen PCs in two zones run by simulated
agents (the real agent with the Simulated backend), consoles on simulated Shelly plugs,
customers with balances, a station in maintenance, one whose agent is off, and sessions
whose time left shows every colour, one of them about to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from gameops.agent.runtime import Agent
from gameops.logging import configure_logging
from gameops.server.db.migrate import upgrade
from gameops.server.runner import uvicorn_config
from gameops.server.settings import Settings
from gameops.sim.fleet import SimStation, sim_network, simulated_agent
from gameops.sim.shelly import ShellySimulator

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "demo-admin-pass"
# zone -> (PC names, hourly rate in minor units)
PC_ZONES = {
    "Main hall": ([f"PC-{n:02d}" for n in range(1, 9)], 600),
    "Arena": ([f"PC-{n:02d}" for n in range(9, 13)], 900),
}
CONSOLES = ("PS5-1", "PS5-2", "XBOX-1")
CONSOLE_ZONE, CONSOLE_RATE = "Console lounge", 800
NO_AGENT = "PC-12"  # left switched off: its card shows Offline
IN_MAINTENANCE = "PC-08"
CUSTOMERS = (
    ("alex", "Alex Rivera", 2500, False),
    ("sam", "Sam Chen", 1200, True),
    ("kim", "Kim Park", 300, False),
    ("jomu", "Jo Müller", 5000, True),
)
# station -> (minutes, customer username or None for a walk-in paying cash)
SESSIONS: dict[str, tuple[int, str | None]] = {
    "PC-01": (90, None),
    "PC-02": (60, "alex"),
    "PC-04": (8, None),  # orange: 5 to 10 minutes left
    "PC-09": (3, None),  # red, and expires while you watch
    "PC-10": (120, "jomu"),
    "PS5-1": (45, "sam"),
}


CONNECT_SECONDS = 20.0


class DemoError(Exception):
    """The demo cannot start (port taken, data directory in use...)."""


@dataclass
class Demo:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    plugs: list[ShellySimulator] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url="",
            redis_url=None,
            admin_username=ADMIN_USERNAME,
            admin_password=ADMIN_PASSWORD,
            log_level="WARNING",
            power_sample_seconds=5,
        )

    async def start(self) -> None:
        """Migrate, serve, start the plugs, fill the venue and start the agents."""
        settings = self.settings()
        await asyncio.to_thread(upgrade, settings.database_url)
        # Short graceful shutdown: open dashboards must not hold Ctrl+C up.
        config = uvicorn_config(settings, self.host, self.port, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._tasks.append(asyncio.create_task(self._server.serve()))
        await self._until_started()
        for _ in CONSOLES:
            plug = ShellySimulator(gen=1)
            await plug.start()
            self.plugs.append(plug)
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            await _login(client)
            stations = await self._fill(client)
            self.agents = [simulated_agent(self.url, s) for s in stations if s.name != NO_AGENT]
            self._tasks += [asyncio.create_task(agent.run()) for agent in self.agents]
            await _until_connected(client, len(self.agents))
            await _sample_sessions(client)

    async def serve_forever(self) -> None:
        """Until the server stops (Ctrl+C)."""
        if self._tasks:
            await self._tasks[0]

    async def stop(self) -> None:
        for agent in self.agents:
            agent.stop()
        if self._server is not None:
            self._server.should_exit = True
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for plug in self.plugs:
            await plug.stop()

    async def _until_started(self) -> None:
        assert self._server is not None
        for _ in range(1000):
            if self._server.started:
                return
            if self._tasks[0].done():
                self._tasks[0].result()
                raise DemoError(f"the server could not listen on {self.host}:{self.port}")
            await asyncio.sleep(0.01)
        raise DemoError("the server did not start within 10 s")

    async def _fill(self, client: httpx.AsyncClient) -> list[SimStation]:
        """The till's shift (a 100.00 float), stations, agent tokens, consoles on plugs,
        customers; returns the PCs."""
        await _post(client, "/shifts", {"count": {"2000": 3, "1000": 2, "500": 4}})
        pcs = []
        for zone, (names, rate) in PC_ZONES.items():
            for name in names:
                station = await _post(client, "/stations", _pc(name, zone, rate))
                if name == NO_AGENT:  # its agent reported these before it was switched off
                    specs = {**station["specs"], **sim_network(str(station["id"]))}
                    await _send(client, "PATCH", f"/stations/{station['id']}", {"specs": specs})
                token = await _post(client, f"/stations/{station['id']}/agent-token", None)
                pcs.append(SimStation(str(station["id"]), name, str(token["token"])))
        for name, plug in zip(CONSOLES, self.plugs, strict=True):
            shelly = {"host": plug.host, "port": plug.port, "generation": plug.gen}
            body = {"name": name, "type": "CONSOLE", "hourly_rate": CONSOLE_RATE,
                    "zone": CONSOLE_ZONE, "controller": {"shelly": shelly}}  # fmt: skip
            await _post(client, "/stations", body)
        for username, full_name, balance, member in CUSTOMERS:
            body = {"username": username, "full_name": full_name, "is_member": member}
            customer = await _post(client, "/customers", body)
            await _post(client, f"/users/{customer['id']}/topups", {"amount": balance})
        return pcs


def _pc(name: str, zone: str, rate: int) -> dict[str, Any]:
    specs = {"cpu_model": "Simulated CPU", "gpu": "Simulated GPU", "ram_mb": 32768}
    return {"name": name, "type": "PC", "hourly_rate": rate, "zone": zone, "specs": specs}


async def _post(client: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    return await _send(client, "POST", path, body)


async def _send(client: httpx.AsyncClient, method: str, path: str, body: Any) -> dict[str, Any]:
    response = await client.request(method, f"/api/v1{path}", json=body)
    if response.status_code >= 400:
        raise DemoError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
    result: dict[str, Any] = response.json()
    return result


async def _login(client: httpx.AsyncClient) -> None:
    credentials = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    tokens = await _post(client, "/auth/login", credentials)
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"


async def _stations(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/v1/stations", params={"per_page": 500})
    response.raise_for_status()
    return {s["name"]: s for s in response.json()["items"]}


async def _until_connected(client: httpx.AsyncClient, count: int) -> None:
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            while True:
                stations = await _stations(client)
                if sum(s["agent_connected"] for s in stations.values()) >= count:
                    return
                await asyncio.sleep(0.3)
    except TimeoutError as err:
        raise DemoError(
            f"the {count} simulated agents did not connect within {CONNECT_SECONDS:g} s"
        ) from err


async def _sample_sessions(client: httpx.AsyncClient) -> None:
    stations = await _stations(client)
    customers = (await client.get("/api/v1/customers", params={"per_page": 100})).json()["items"]
    by_username = {c["username"]: c["id"] for c in customers}
    for name, (minutes, username) in SESSIONS.items():
        body: dict[str, Any] = {"station_id": stations[name]["id"], "duration_minutes": minutes}
        if username is not None:
            body |= {"user_id": by_username[username], "payment_method": "BALANCE"}
        await _post(client, "/sessions/start", body)
    maintenance = {"status": "MAINTENANCE"}
    response = await client.patch(
        f"/api/v1/stations/{stations[IN_MAINTENANCE]['id']}", json=maintenance
    )
    response.raise_for_status()


@contextlib.contextmanager
def demo_data_dir(data_dir: Path | None) -> Iterator[Path]:
    """``data_dir`` (new or empty; kept afterwards), or a temporary directory that is
    removed on the way out, however the demo ends."""
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="gameops-demo-") as temporary:
            yield Path(temporary)
        return
    if data_dir.exists() and any(data_dir.iterdir()):
        raise DemoError(f"{data_dir} is not empty; the demo starts from a fresh directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    yield data_dir


async def _main(demo: Demo, console: Console, keep_data: bool) -> None:
    try:
        with console.status("starting the demo venue"):
            await demo.start()
    except BaseException:
        await demo.stop()
        raise
    console.print(
        f"\n[bold green]GameOps demo[/] is running: open [link]{demo.url}/[/]\n"
        f"  log in as [bold]{ADMIN_USERNAME}[/] with password [bold]{ADMIN_PASSWORD}[/]\n"
        f"  {sum(len(n) for n, _ in PC_ZONES.values())} PCs ({len(demo.agents)} simulated "
        f"agents), {len(CONSOLES)} consoles on simulated Shelly plugs, "
        f"{len(CUSTOMERS)} customers, {len(SESSIONS)} sessions running\n"
        f"  data: {demo.data_dir} ({'kept' if keep_data else 'removed'} on exit)  ·  "
        f"API docs: {demo.url}/docs  ·  Ctrl+C to stop\n",
        soft_wrap=True,  # a path cut in two cannot be copied
    )
    try:
        await demo.serve_forever()
    finally:
        await demo.stop()


def run(host: str, port: int, data_dir: Path | None, console: Console | None = None) -> int:
    """Run the demo until Ctrl+C; returns the exit code."""
    console = console or Console(stderr=True)
    configure_logging("WARNING")
    # SIGTERM as Ctrl+C: the venue stops cleanly and a temporary data directory goes too.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with demo_data_dir(data_dir) as directory, contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_main(Demo(directory, host, port), console, data_dir is not None))
    except (DemoError, OSError) as err:
        console.print(f"[red]gameops demo: {err}[/]")
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
