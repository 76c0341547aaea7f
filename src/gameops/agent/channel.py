"""The local channel between the service part and the user-session part: JSON lines over a
loopback TCP socket. The service listens; the user-session part connects and proves itself
with a per-run secret passed in its environment.

service -> desktop: {"op": "view", ...}, {"op": "lock"}, {"op": "ping", "seq": N},
                    {"op": "message", "id", "text", "by"} (a staff message, with "Got it")
desktop -> service: {"op": "hello", "secret": ..., "pid": ...}, {"op": "idle", "seconds": N},
                    {"op": "pong", "seq": N} (from the window loop's own thread),
                    {"op": "tamper", "kind": K, "detail": D, "count": N} (e.g. Windows
                    removed the keyboard hook),
                    {"op": "seen", "id": ...} (the customer clicked "Got it")
                    {"op": "login", "username", "secret", "ticket"}, {"op": "logout"}
                    (the customer at the login view and the overlay; never logged)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from .localwire import encode_line
from .logs import get_logger

log = get_logger(__name__)

MAX_LINE = 64 * 1024
MAX_UNSEEN = 20  # staff messages kept to show again to a restarted overlay
CUSTOMER_REQUESTS = ("login", "logout")


class DesktopLink(Protocol):
    """How the service part talks to the user-session part, wherever that runs."""

    @property
    def showing(self) -> bool:
        """Whether the overlay can show views and lock the desktop now (or soon)."""

    @property
    def idle_seconds(self) -> float | None:
        """Input-idle time as the user's session last saw it (None: not known)."""

    def push(self, message: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class DesktopChannel:
    """Service side. Keeps the state to show (the view, and whether the desktop must be
    locked) so a restarted overlay shows it at once: a lock ordered while the overlay was
    dead still locks. Also the overlay's liveness: pings, and when it last answered."""

    def __init__(self, on_tamper: Callable[[str, str, int], None] | None = None) -> None:
        self.secret = secrets.token_urlsafe(24)
        self.on_tamper = on_tamper  # (kind, detail, count) the overlay reported
        self.on_request: Callable[[dict[str, Any]], None] = lambda _: None  # login, logout
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._last_view: dict[str, Any] | None = None
        self._lock_pending = False  # a lock was ordered and no session has shown since
        self.hellos = 0
        self.idle_seconds: float | None = None
        self._seq = 0
        self._answered_at: float | None = None  # monotonic; None: this child never answered
        self._caught_up = asyncio.Event()  # a pong answered the latest ping
        self.on_seen: Callable[[str], None] = lambda command_id: None
        self._messages: dict[str, dict[str, Any]] = {}  # staff messages not yet "Got it"

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def connected(self) -> bool:
        return bool(self._writers)

    @property
    def showing(self) -> bool:
        return True  # a killed or lost overlay is restarted and gets the last view at once

    def push(self, message: dict[str, Any]) -> None:
        if message.get("op") == "view":
            self._last_view = message
            if message.get("mode") == "session":
                self._lock_pending = False
        elif message.get("op") == "lock":
            self._lock_pending = True
        elif message.get("op") == "message":
            self._messages[str(message.get("id"))] = message
            while len(self._messages) > MAX_UNSEEN:
                del self._messages[next(iter(self._messages))]  # the oldest
        self._broadcast(encode_line(message))

    def child_started(self) -> None:
        self._answered_at = None

    def ping(self) -> None:
        self._seq += 1
        self._broadcast(encode_line({"op": "ping", "seq": self._seq}))

    async def caught_up(self, seconds: float) -> bool:
        """Whether the overlay handled everything pushed so far (it answers a ping only
        after the messages before it), waiting up to ``seconds``."""
        if not self.connected:
            return False
        self._caught_up.clear()
        self.ping()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), seconds)
        return self._caught_up.is_set()

    def silent_for(self) -> float | None:
        if self._answered_at is None:
            return None
        return time.monotonic() - self._answered_at

    def _state(self) -> list[dict[str, Any]]:
        """What a newly connected overlay must show: the view, then the lock if one is due,
        then the staff messages the customer has not clicked "Got it" on."""
        state = [self._last_view] if self._last_view is not None else []
        lock = [{"op": "lock"}] if self._lock_pending else []
        return state + lock + list(self._messages.values())  # and the messages not yet seen

    def _broadcast(self, line: bytes) -> None:
        for writer in list(self._writers):
            if writer.is_closing():
                self._writers.discard(writer)
            else:
                writer.write(line)

    async def close(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not await self._accept(reader):
                log.warning("desktop_channel_refused", peer=writer.get_extra_info("peername"))
                return
            self._writers.add(writer)
            self._answered_at = time.monotonic()
            for message in self._state():
                writer.write(encode_line(message))
            while line := await reader.readline():
                self._receive(line)
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _receive(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("op") == "pong":
            self._answered_at = time.monotonic()
            seq = message.get("seq")
            if isinstance(seq, int) and seq >= self._seq:
                self._caught_up.set()
            return
        if message.get("op") in CUSTOMER_REQUESTS:
            self.on_request(message)
            return
        if message.get("op") == "tamper":
            self._tamper(message)
            return
        if message.get("op") == "seen" and isinstance(message.get("id"), str):
            if self._messages.pop(message["id"], None) is not None:
                self.on_seen(message["id"])
            return
        if message.get("op") != "idle":
            return
        seconds = message.get("seconds")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
            self.idle_seconds = float(seconds)

    def _tamper(self, message: dict[str, Any]) -> None:
        kind, detail, count = message.get("kind"), message.get("detail", ""), message.get("count")
        if not (isinstance(kind, str) and kind.replace("_", "").isalnum() and len(kind) <= 64):
            return
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            count = 1
        if self.on_tamper is not None:
            self.on_tamper(kind, str(detail)[:1000], count)

    async def _accept(self, reader: asyncio.StreamReader) -> bool:
        with contextlib.suppress(TimeoutError, ValueError):
            line = await asyncio.wait_for(reader.readline(), 5)
            hello = json.loads(line)
            if not isinstance(hello, dict):
                return False
            secret = str(hello.get("secret", ""))
            if hello.get("op") == "hello" and hmac.compare_digest(secret, self.secret):
                self.hellos += 1
                return True
        return False
