"""The agent's WebSocket link to the server: connect, say hello, replay what was queued
offline, ask for a sync, then exchange messages; reconnect with backoff when the link drops.

The link knows the wire protocol but nothing of sessions: it hands every server message to
``on_message`` and sends what it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal
from uuid import UUID

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from gameops.protocol import (
    SERVER_MESSAGES,
    AgentHello,
    CloseCode,
    Error,
    Heartbeat,
    Payload,
    ProtocolError,
    Reconnect,
    Replaced,
    ServerHello,
    SyncRequest,
    decode,
    encode,
)
from gameops.protocol.close_codes import retry_after

from .backoff import Backoff
from .logs import get_logger

log = get_logger(__name__)

REJECTED_HTTP_STATUSES = {401, 403, 404}
BUSY_WAIT_LIMIT = 55.0  # seconds: the longest an agent waits because the server said so
# Heard nothing (not even a heartbeat's answer) for this many heartbeat intervals: the link
# is dead.
SILENT_HEARTBEATS = 2.0
# (busy, or going away: then it adds its own spread of up to ``restart_spread``)
REJECTED_CLOSE_CODES = {CloseCode.AUTH_FAILED, CloseCode.UNKNOWN_STATION, CloseCode.FORBIDDEN}


class Outcome(Enum):
    LOST = "lost"  # network trouble, server crash: back off and retry
    REJECTED = "rejected"  # bad token or unknown station: log why, retry slowly
    RECONNECT = "reconnect"  # the server asked us to come back (restart, other replica)
    BUSY = "busy"  # the server is busy or limiting us: come back after the delay it gave
    REPLACED = "replaced"  # another connection owns the station: wait long, do not fight
    STOPPED = "stopped"  # we were asked to stop


@dataclass
class LinkHooks:
    """What the link asks of the agent: messages to send and where received ones go."""

    hello: Callable[[], AgentHello]
    sync_request: Callable[[], SyncRequest]
    heartbeat: Callable[[], Heartbeat]
    on_message: Callable[[UUID, Payload], None]
    on_connected: Callable[[bool], None] = lambda connected: None


@dataclass(frozen=True)
class LinkTuning:
    queue_limit: int = 500  # messages kept while offline; the oldest go first
    hello_timeout: float = 10.0
    stable_after: float = 10.0  # a connection that lived this long resets the backoff
    rejected_floor: float = 5.0  # never retry a rejected token faster than this
    restart_spread: float = 5.0  # spread reconnects the server asked for over this window
    # After ``replaced``, come back only after this long plus as much again at random: a
    # stray replace (a handshake the server finished late) must not orphan the PC for good,
    # and two PCs sharing a token (a cloned disk) take turns slowly instead of fighting.
    replaced_retry: float = 120.0


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verifying TLS: against ``ca_file`` alone when given (the venue's pinned server),
    else the system's certificate authorities."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)


class AgentLink:
    def __init__(
        self,
        url: str,
        token: str,
        hooks: LinkHooks,
        backoff: Backoff | None = None,
        tuning: LinkTuning | None = None,
        proxy: str | Literal[True] | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.url = url
        self.proxy = proxy  # as websockets' connect(proxy=...): None direct, True the system's
        self._tls = tls_context(ca_file) if url.startswith("wss://") else None
        self._token = token
        self.hooks = hooks
        self.backoff = backoff or Backoff()
        self.tuning = tuning or LinkTuning()
        self.connected = False
        self.attempts = 0
        self.connections = 0  # attempts that got as far as a conversation
        self.last_outcome: Outcome | None = None  # how the latest attempt ended
        self._outbox: deque[str] = deque()
        self.dropped = 0  # oldest queued messages given up while offline
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()  # set whenever the writer has emptied the outbox
        self._stop = asyncio.Event()
        self._retry = asyncio.Event()  # cuts a backoff wait short
        self.connecting = False  # a connection attempt is in flight
        self._ws: ClientConnection | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._reconnect_after = 0.0
        self._heartbeat_interval = 30.0  # until the server's hello says otherwise

    def send(self, payload: Payload, *, queue_offline: bool = True) -> None:
        """Send now if connected, else queue (bounded) for the next connection."""
        if not self.connected and not queue_offline:
            return
        if len(self._outbox) >= self.tuning.queue_limit:
            self._outbox.popleft()
            self.dropped += 1
            if self.dropped % 100 == 1:  # a long outage must not flood the log as well
                log.warning("agent_offline_queue_full", dropped_so_far=self.dropped)
        self._outbox.append(encode(payload))
        self._drained.clear()
        self._wakeup.set()

    @property
    def queued(self) -> int:
        return len(self._outbox)

    async def flush(self, seconds: float) -> None:
        """Give queued messages up to ``seconds`` to leave (before a clean stop)."""
        if self.connected and self._outbox:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), seconds)

    def retry_now(self) -> None:
        """Skip the rest of the backoff wait and try the server at once (a session just
        ended offline: the server may know of an extension). No-op while connected."""
        if not self.connected and not self.connecting:
            self._retry.set()

    def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            closing = asyncio.get_running_loop().create_task(self._ws.close())
            self._closing.add(closing)  # keep a reference until it is done
            closing.add_done_callback(self._closing.discard)

    async def run(self) -> Outcome:
        """Keep the link up until stopped."""
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            self.attempts += 1
            self._retry.clear()
            self.connecting = True
            try:
                outcome = await self._connect_once()
            finally:
                self.connecting = False
            self.last_outcome = outcome
            if outcome is Outcome.STOPPED or self._stop.is_set():
                return Outcome.STOPPED
            delay = self._delay_after(outcome, lived=loop.time() - started)
            log.info("agent_reconnect_scheduled", after=outcome.value, in_seconds=round(delay, 2))
            await self._wait_before_retry(delay)
        return Outcome.STOPPED

    async def _wait_before_retry(self, delay: float) -> None:
        waits = {asyncio.ensure_future(event.wait()) for event in (self._stop, self._retry)}
        _, pending = await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()

    def _delay_after(self, outcome: Outcome, lived: float) -> float:
        if outcome is Outcome.BUSY:
            return self._reconnect_after
        if outcome is Outcome.REPLACED:
            return self.tuning.replaced_retry + self.backoff.spread(self.tuning.replaced_retry)
        if outcome is Outcome.RECONNECT:
            self.backoff.reset()
            return self._reconnect_after + self.backoff.spread(self.tuning.restart_spread)
        if outcome is Outcome.LOST and lived >= self.tuning.stable_after:
            self.backoff.reset()
        delay = self.backoff.next_delay()
        if outcome is Outcome.REJECTED:
            delay = max(delay, self.tuning.rejected_floor)
        return delay

    async def _connect_once(self) -> Outcome:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            # Frames are a few hundred bytes: compression would only cost memory per link.
            # No WebSocket pings: every heartbeat is answered, and a server silent for
            # ``SILENT_HEARTBEATS`` intervals is taken as gone (``_receive``). Pings every
            # 20 s from 10,000 PCs were 500 frames a second more for the server.
            async with connect(
                self.url,
                additional_headers=headers,
                proxy=self.proxy,
                ssl=self._tls,
                open_timeout=10,
                max_size=2**20,
                compression=None,
                ping_interval=None,
            ) as ws:
                return await self._converse(ws)
        except InvalidStatus as err:
            status = err.response.status_code
            if status in REJECTED_HTTP_STATUSES:
                self._log_rejected(f"HTTP {status}")
                return Outcome.REJECTED
            log.warning("agent_connect_failed", url=self.url, error=f"HTTP {status}")
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as err:
            log.warning("agent_connect_failed", url=self.url, error=repr(err))
        return Outcome.LOST

    async def _converse(self, ws: ClientConnection) -> Outcome:
        try:
            await self._handshake(ws)
        except (TimeoutError, ProtocolError) as err:
            log.warning("agent_handshake_failed", error=str(err))
            return self._closed_outcome(ws)
        except ConnectionClosed:
            return self._closed_outcome(ws)
        self._ws, self.connected, self.connecting = ws, True, False
        self.connections += 1
        self.hooks.on_connected(True)
        log.info("agent_connected", url=self.url)
        tasks = {asyncio.create_task(self._write(ws)), asyncio.create_task(self._beat())}
        try:
            return await self._receive(ws)
        finally:
            self._ws, self.connected = None, False
            for task in tasks:
                task.cancel()
            self.hooks.on_connected(False)
            log.info("agent_disconnected", close_code=ws.close_code)

    async def _handshake(self, ws: ClientConnection) -> None:
        """server_hello in; agent_hello, everything queued offline, sync_request out."""
        frame = await asyncio.wait_for(ws.recv(), self.tuning.hello_timeout)
        message_id, hello = decode(frame, SERVER_MESSAGES)
        if not isinstance(hello, ServerHello):
            raise ProtocolError(f"expected server_hello, got {hello.TYPE}")
        self._heartbeat_interval = hello.heartbeat_interval
        self.hooks.on_message(message_id, hello)
        await ws.send(encode(self.hooks.hello()))
        while self._outbox:
            await ws.send(self._outbox[0])
            self._outbox.popleft()
        await ws.send(encode(self.hooks.sync_request()))

    async def _receive(self, ws: ClientConnection) -> Outcome:
        silence_limit = self._heartbeat_interval * SILENT_HEARTBEATS
        try:
            while True:
                try:
                    # Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation
                    # (CPython gh-86296), and the agent's stop would go unheard.
                    async with asyncio.timeout(silence_limit):
                        frame = await ws.recv()
                except TimeoutError:
                    # A link that died without a close (a pulled cable, a NAT that forgot
                    # it): drop it and connect again.
                    log.warning("agent_server_silent", seconds=silence_limit)
                    await ws.close()
                    return Outcome.LOST
                outcome = self._dispatch(frame)
                if outcome is not None:
                    await ws.close()
                    return outcome
        except ConnectionClosed:
            pass
        return self._closed_outcome(ws)

    def _dispatch(self, frame: str | bytes) -> Outcome | None:
        try:
            message_id, payload = decode(frame, SERVER_MESSAGES)
        except ProtocolError as err:
            log.warning("agent_bad_frame", detail=err.detail)
            return None
        if isinstance(payload, Replaced):
            log.warning("agent_replaced", hint="another agent connected for this station")
            return Outcome.REPLACED
        if isinstance(payload, Reconnect):
            self._reconnect_after = min(payload.after_seconds, BUSY_WAIT_LIMIT)
            return Outcome.RECONNECT
        if isinstance(payload, Error):
            log.warning("agent_server_error", detail=payload.detail, ref_id=payload.ref_id)
        self.hooks.on_message(message_id, payload)
        return None

    def _closed_outcome(self, ws: ClientConnection) -> Outcome:
        code = ws.close_code
        if self._stop.is_set():
            return Outcome.STOPPED
        if code == CloseCode.REPLACED:
            log.warning("agent_replaced", hint="another agent connected for this station")
            return Outcome.REPLACED
        if code in REJECTED_CLOSE_CODES:
            self._log_rejected(f"close code {code} {ws.close_reason!r}")
            return Outcome.REJECTED
        if code == CloseCode.SERVICE_RESTART:
            self._reconnect_after = 0.0
            return Outcome.RECONNECT
        if code == CloseCode.TRY_AGAIN_LATER:
            # Busy or rate limited: come back when the server said (it spread the agents
            # out), never later than a minute from now.
            asked = retry_after(ws.close_reason)
            if asked is not None:
                self._reconnect_after = min(asked, BUSY_WAIT_LIMIT)
                log.info("agent_told_to_wait", seconds=round(self._reconnect_after, 1))
                return Outcome.BUSY
        return Outcome.LOST

    def _log_rejected(self, why: str) -> None:
        log.error(
            "agent_rejected_by_server",
            why=why,
            url=self.url,
            fix="check station.id and backend.token; issue a new token with "
            "POST /api/v1/stations/{id}/agent-token",
        )

    async def _write(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox:
                    await ws.send(self._outbox[0])
                    self._outbox.popleft()
                self._drained.set()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            self.send(self.hooks.heartbeat(), queue_offline=False)
