"""A real uvicorn serving the real app on a loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx
import structlog

from gameops.logging import configure_logging
from gameops.server.runner import GameOpsServer, uvicorn_config
from gameops.server.settings import Settings

if TYPE_CHECKING:
    from gameops.server.app import Services

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password-123"
# How long a task the server left running may take to unwind once cancelled.
LEFT_BEHIND_SECONDS = 10.0


def server_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": uuid.uuid4().hex,
        "admin_username": ADMIN_USERNAME,
        "admin_password": ADMIN_PASSWORD,
        "log_level": "WARNING",
        # Most suites sell cash without a till; the shift tests turn it on.
        "require_open_shift": False,
        **overrides,
    }
    return Settings(**values)


@contextlib.contextmanager
def production_logging(level: str = "WARNING", stream: TextIO | None = None) -> Iterator[None]:
    """Log as ``gameops serve`` does (plain tracebacks) while a test needs it: structlog's
    default renders each logged exception with rich, locals and all, which blocks the event
    loop for seconds when many background jobs fail at once (a database outage)."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level_before = list(root.handlers), root.level
    configure_logging(level, stream=stream)
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers, root.level = handlers, level_before


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._socket = _bound_socket(0)
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"{settings.scheme}://127.0.0.1:{self.port}"
        self.ws_url = f"{settings.scheme.replace('http', 'ws')}://127.0.0.1:{self.port}"
        self._server: GameOpsServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._clients: list[httpx.AsyncClient] = []
        self._tasks_before: set[asyncio.Task[Any]] | None = None

    @property
    def services(self) -> Services:
        """The running app's object graph (for white-box assertions)."""
        assert self._server is not None
        services: Services = self._server.config.app.state.services
        return services

    @property
    def app_state(self) -> Any:
        """The running app's ``state`` (the payment gateway and other app-wide objects)."""
        assert self._server is not None
        return self._server.config.app.state

    async def start(self) -> None:
        if self._socket.fileno() == -1:  # uvicorn closes its socket on shutdown: same port again
            self._socket = _bound_socket(self.port)
        if self._tasks_before is None:
            self._tasks_before = asyncio.all_tasks()
        config = uvicorn_config(self.settings, "127.0.0.1", self.port)
        self._server = GameOpsServer(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        for _ in range(500):
            if self._server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start within 5 s")

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, 15)
        self._server = self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        await self.stop()
        self._socket.close()
        await self._end_left_behind_tasks()

    async def _end_left_behind_tasks(self) -> None:
        """Cancel what the server left running, and name what will not end. The event loop
        cancels leftovers when the test ends anyway, but a task that ignores its cancellation
        would hang it silently until pytest-timeout, with no word of which task it was."""
        left = asyncio.all_tasks() - (self._tasks_before or set()) - {asyncio.current_task()}
        if not left:
            return
        for task in left:
            task.cancel()
        _, stuck = await asyncio.wait(left, timeout=LEFT_BEHIND_SECONDS)
        if stuck:
            for task in stuck:
                task.print_stack()
            names = sorted(task.get_name() for task in stuck)
            raise AssertionError(f"tasks that did not end when cancelled: {names}")

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # A TLS test server's certificate is self-signed: it is its own authority.
        certificate = self.settings.tls_certfile
        verify = ssl.create_default_context(cafile=certificate) if certificate else _system_cas()
        # Idle connections dropped before uvicorn's 5 s keep-alive closes them: a request
        # sent on one just as the server closed it failed with ReadError (a slow test step
        # between two requests, such as starting the browser).
        client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=30,
            verify=verify,
            limits=httpx.Limits(keepalive_expiry=2.0),
        )
        self._clients.append(client)
        return client

    async def login(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> str:
        response = await self.client().post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    async def admin_client(self) -> httpx.AsyncClient:
        return self.client(await self.login())

    async def create_pc_station(
        self, name: str | None = None, hourly_rate: int = 600
    ) -> tuple[str, str]:
        """A PC station and its agent token: ``(station_id, token)``."""
        admin = await self.admin_client()
        return await create_station_with_token(admin, name, hourly_rate)


@functools.cache
def _system_cas() -> ssl.SSLContext:
    """httpx's default context, made once: with ``verify=True`` each new client loads the
    whole CA bundle again, 40 ms of CPU, a few times in every test."""
    return httpx.create_ssl_context()


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def create_station_with_token(
    admin: httpx.AsyncClient, name: str | None = None, hourly_rate: int = 600, type: str = "PC"
) -> tuple[str, str]:
    body = {"name": name or f"PC-{uuid.uuid4().hex[:6]}", "type": type, "hourly_rate": hourly_rate}
    created = await admin.post("/api/v1/stations", json=body)
    assert created.status_code == 201, created.text
    station_id: str = created.json()["id"]
    issued = await admin.post(f"/api/v1/stations/{station_id}/agent-token")
    assert issued.status_code == 201, issued.text
    return station_id, issued.json()["token"]
