"""Running the server under uvicorn, with the WebSocket settings a fleet of agents needs."""

from __future__ import annotations

import gc
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console

from gameops.logging import configure_logging
from gameops.server.app import before_shutdown, create_app
from gameops.server.db.migrate import upgrade
from gameops.server.settings import Settings, get_settings


class GameOpsServer(uvicorn.Server):
    """uvicorn, stopping gracefully for the agents: on SIGTERM it stops accepting, tells each
    agent to ``reconnect`` after a jittered delay and closes it with 1012, and only then lets
    uvicorn cut what is left, drain requests and run the lifespan's shutdown."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connection from here on (uvicorn's own close repeats it)
        for sock in sockets or []:
            sock.close()
        if isinstance(self.config.app, FastAPI):
            await before_shutdown(self.config.app)
        await super().shutdown(sockets)


def uvicorn_config(settings: Settings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        # websockets' Sans-I/O protocol, named so that no other install (wsproto) or
        # default changes it: server CPU per handshake (accept and close, 400 in a row):
        # 0.63-0.70 ms, wsproto 0.78-0.88 ms, websockets' legacy protocol 0.73-1.15 ms.
        ws="websockets-sansio",
        # permessage-deflate keeps a compression context per socket: tens of KiB each,
        # for frames of a few hundred bytes. Off.
        ws_per_message_deflate=False,
        ws_ping_interval=settings.ws_ping_interval_seconds,
        ws_ping_timeout=settings.ws_ping_timeout_seconds,
        log_config=None,
        lifespan="on",
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        **{
            # On SIGTERM the agents are sent away (GameOpsServer), other sockets closed;
            # requests still running get this long to finish.
            "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
            **extra,
        },
    )


def serve(host: str, port: int, migrate: bool, console: Console) -> None:
    try:
        settings = get_settings()
    except ValidationError as err:
        for problem in err.errors():
            where = ".".join(str(part) for part in problem["loc"])
            console.print(
                f"[red]configuration error:[/] {where + ': ' if where else ''}{problem['msg']}",
                soft_wrap=True,
            )
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    if migrate:
        with console.status("applying database migrations"):
            upgrade(settings.database_url)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"{settings.scheme}://{shown_host}:{port}"
    console.print(
        f"[bold green]GameOps[/] on [link]{url}[/]  (API docs: {url}/docs)\n"
        f"database: {settings.redacted_database_url}\n"
        f"log in as [bold]{settings.admin_username}[/] with GAMEOPS_ADMIN_PASSWORD, or the "
        "password printed below on the very first start."
    )
    config = uvicorn_config(settings, host, port)
    # Everything imported and built so far (a quarter of a million objects) lives as long
    # as the process: out of the collector's sight, full collections stop walking it
    # (in-process, 1,000 agents' connects, hellos and disconnects: 1.2 s of them, 0.1 s).
    gc.freeze()
    GameOpsServer(config).run()
