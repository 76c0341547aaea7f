"""The WebSocket link against a real local WebSocket server that plays a scripted server."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from websockets.asyncio.server import ServerConnection, serve

from gameops.agent.backoff import Backoff
from gameops.agent.link import AgentLink, LinkHooks, LinkTuning, Outcome
from gameops.protocol import (
    AgentHello,
    CloseCode,
    Heartbeat,
    HeartbeatAck,
    Payload,
    Reconnect,
    Replaced,
    ServerHello,
    SessionStart,
    SyncRequest,
    Tamper,
    encode,
)
from tests.agent.harness import captured_events
from tests.support.waiting import until

Script = Callable[[ServerConnection], Awaitable[None]]
StartServer = Callable[[Script], Awaitable[tuple["ScriptedServer", str]]]


class ScriptedServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.frames: list[dict[str, Any]] = []
        self.headers: list[str | None] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        assert ws.request is not None
        self.headers.append(ws.request.headers.get("Authorization"))
        await self.script(ws)

    async def read(self, ws: ServerConnection, count: int) -> list[dict[str, Any]]:
        frames = [json.loads(await ws.recv()) for _ in range(count)]
        self.frames += frames
        return frames


def hello(interval: int = 30) -> str:
    return encode(ServerHello(server_time=datetime.now(UTC), heartbeat_interval=interval))


@pytest.fixture
async def start_server() -> AsyncIterator[
    Callable[[Script], Awaitable[tuple[ScriptedServer, str]]]
]:
    servers = []

    async def start(script: Script) -> tuple[ScriptedServer, str]:
        scripted = ScriptedServer(script)
        server = await serve(scripted.handler, "127.0.0.1", 0)
        servers.append(server)
        port = next(iter(server.sockets)).getsockname()[1]
        return scripted, f"ws://127.0.0.1:{port}/ws/agent/{uuid4()}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def make_link(
    url: str, received: list[Payload] | None = None, **tuning: Any
) -> tuple[AgentLink, list[Payload]]:
    received = [] if received is None else received
    hooks = LinkHooks(
        hello=lambda: AgentHello(agent_version="test", os="linux"),
        sync_request=lambda: SyncRequest(last_known_session_id=UUID(int=1)),
        heartbeat=lambda: Heartbeat(cpu=1.0, ram=2.0),
        on_message=lambda message_id, payload: received.append(payload),
    )
    backoff = Backoff(base=0.05, cap=0.2, rng=random.Random(4))
    return AgentLink(url, "secret-token", hooks, backoff, LinkTuning(**tuning)), received


async def test_handshake_sends_hello_then_the_offline_queue_in_order_then_sync(
    start_server: Any,
) -> None:
    done = asyncio.Event()

    async def script(ws: ServerConnection) -> None:
        await ws.send(hello())
        await server.read(ws, 4)
        start = SessionStart(
            id=uuid4(),
            started_at=datetime.now(UTC),
            scheduled_end_at=datetime.now(UTC),
            duration_minutes=1,
        )
        await ws.send(encode(start))
        await done.wait()

    server, url = await start_server(script)
    link, received = make_link(url)
    link.send(Tamper(kind="first"))
    link.send(Tamper(kind="second"))
    link.send(Heartbeat(cpu=1, ram=1), queue_offline=False)  # stale when offline: dropped
    task = asyncio.create_task(link.run())
    await wait_until(lambda: any(isinstance(p, SessionStart) for p in received))
    types = [(f["type"], f["data"].get("kind")) for f in server.frames]
    assert types == [
        ("agent_hello", None),
        ("tamper", "first"),
        ("tamper", "second"),
        ("sync_request", None),
    ]
    assert server.headers == ["Bearer secret-token"]
    assert isinstance(received[0], ServerHello)
    link.stop()
    done.set()
    assert await asyncio.wait_for(task, 5) is Outcome.STOPPED


async def test_offline_queue_is_bounded_and_keeps_the_newest(start_server: Any) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send(hello())
        await server.read(ws, 5)
        await ws.wait_closed()

    server, url = await start_server(script)
    link, _ = make_link(url, queue_limit=3)
    for number in range(5):
        link.send(Tamper(kind=f"t{number}"))
    assert (link.queued, link.dropped) == (3, 2)
    task = asyncio.create_task(link.run())
    await wait_until(lambda: len(server.frames) == 5)
    assert [f["data"].get("kind") for f in server.frames[1:4]] == ["t2", "t3", "t4"]
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_heartbeats_follow_the_servers_interval(start_server: Any) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send(hello(interval=1))
        await server.read(ws, 3)  # hello, sync, first heartbeat
        await ws.wait_closed()

    server, url = await start_server(script)
    link, _ = make_link(url)
    task = asyncio.create_task(link.run())
    await wait_until(lambda: len(server.frames) == 3, seconds=3)
    assert server.frames[2]["type"] == "heartbeat"
    assert server.frames[2]["data"]["cpu"] == 1.0
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_a_silent_server_is_dropped_and_one_that_answers_kept(
    start_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """No WebSocket pings: the heartbeats' answers are the keepalive. Two intervals without
    a word (a link that died without a close) and the agent connects again."""

    async def script(ws: ServerConnection) -> None:
        await ws.send(hello(interval=1))
        if server.connections == 1:
            await ws.wait_closed()  # hears everything, says nothing
            return
        async for frame in ws:
            if json.loads(frame)["type"] == "heartbeat":
                server.frames.append(json.loads(frame))
                await ws.send(encode(HeartbeatAck(server_time=datetime.now(UTC))))

    server, url = await start_server(script)
    link, _ = make_link(url)
    with captured_events(caplog) as events:
        task = asyncio.create_task(link.run())
        await wait_until(lambda: server.connections == 2 and link.connected, seconds=6)
        # Five heartbeats answered, five intervals: more than twice the limit, still linked.
        await wait_until(lambda: len(server.frames) >= 5, seconds=8)
    assert server.connections == 2 and link.connected
    assert [e["seconds"] for e in events if e["event"] == "agent_server_silent"] == [2.0]
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_rejected_token_logs_the_fix_and_backs_off(
    start_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.close(CloseCode.AUTH_FAILED, "invalid agent token")

    server, url = await start_server(script)
    link, _ = make_link(url, rejected_floor=0.5)
    with captured_events(caplog) as logs:
        task = asyncio.create_task(link.run())
        await asyncio.sleep(1.3)
        link.stop()
        await asyncio.wait_for(task, 5)
    # 0.5 s floor: at most 3 attempts in 1.3 s, where a tight loop would make hundreds.
    assert 2 <= server.connections <= 3
    rejected = [e for e in logs if e["event"] == "agent_rejected_by_server"]
    assert rejected
    assert "4401" in rejected[0]["why"]
    assert "agent-token" in rejected[0]["fix"]


async def test_replaced_waits_long_then_comes_back(start_server: Any) -> None:
    """A replaced link does not fight the other connection, nor does it give up for good:
    a replace the server sent in error (a handshake it finished late) would otherwise leave
    the PC unreachable until it restarts."""
    replaced_at: list[float] = []
    second_at: list[float] = []
    done = asyncio.Event()

    async def script(ws: ServerConnection) -> None:
        await ws.send(hello())
        await server.read(ws, 2)
        if not replaced_at:
            replaced_at.append(asyncio.get_running_loop().time())
            await ws.send(encode(Replaced()))
            await ws.wait_closed()
            return
        second_at.append(asyncio.get_running_loop().time())
        await done.wait()

    server, url = await start_server(script)
    link, _ = make_link(url, replaced_retry=0.5)
    running = asyncio.create_task(link.run())
    await until(lambda: server.connections == 2)
    assert link.last_outcome is Outcome.REPLACED
    assert second_at[0] - replaced_at[0] >= 0.5  # not at once: it waited replaced_retry
    await until(lambda: link.connected)
    link.stop()
    done.set()
    assert await asyncio.wait_for(running, 5) is Outcome.STOPPED


async def test_service_restart_close_reconnects_soon(start_server: Any) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send(hello())
        await server.read(ws, 2)
        if server.connections == 1:
            await ws.close(CloseCode.SERVICE_RESTART, "restarting")
        else:
            await ws.wait_closed()

    server, url = await start_server(script)
    link, _ = make_link(url, restart_spread=0.2)
    task = asyncio.create_task(link.run())
    await wait_until(lambda: server.connections == 2 and link.connected, seconds=3)
    assert link.backoff.attempt == 0
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_a_reconnect_message_is_honoured_with_the_servers_delay(start_server: Any) -> None:
    connected_at: list[float] = []
    loop = asyncio.get_running_loop()

    async def script(ws: ServerConnection) -> None:
        connected_at.append(loop.time())
        await ws.send(hello())
        await server.read(ws, 2)
        if server.connections == 1:  # going away: come back in 0.8 s
            await ws.send(encode(Reconnect(after_seconds=0.8)))
            await ws.close(CloseCode.SERVICE_RESTART, "restarting")
        else:
            await ws.wait_closed()

    server, url = await start_server(script)
    link, _ = make_link(url, restart_spread=0.3)
    task = asyncio.create_task(link.run())
    await wait_until(lambda: server.connections == 2 and link.connected, seconds=5)
    waited = connected_at[1] - connected_at[0]
    assert 0.8 <= waited < 0.8 + 0.3 + 0.7  # its delay, its own spread, a handshake
    assert link.backoff.attempt == 0  # asked to come back: no failure to back off from
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_a_malformed_frame_is_logged_and_the_link_stays_up(
    start_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send(hello())
        await server.read(ws, 2)
        await ws.send("{not json")
        await ws.send(hello())
        await ws.wait_closed()

    server, url = await start_server(script)
    link, received = make_link(url)
    with captured_events(caplog) as logs:
        task = asyncio.create_task(link.run())
        await wait_until(lambda: len(received) == 2)
    assert any(e["event"] == "agent_bad_frame" for e in logs)
    assert link.connected
    link.stop()
    await asyncio.wait_for(task, 5)


async def test_unreachable_server_is_retried_with_growing_delays() -> None:
    link, _ = make_link("ws://127.0.0.1:9/ws/agent/x")  # nothing listens on port 9
    task = asyncio.create_task(link.run())
    await asyncio.sleep(0.8)
    link.stop()
    await asyncio.wait_for(task, 5)
    assert 2 <= link.attempts < 40


def test_backoff_grows_with_full_jitter_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(base=1, cap=60, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        assert 0 <= backoff.next_delay() <= ceilings[-1]
    assert ceilings == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    backoff.attempt = 5000  # no overflow after a very long outage
    assert backoff.ceiling() == 60
    backoff.reset()
    assert backoff.ceiling() == 1


def test_full_jitter_spreads_a_thousand_agents() -> None:
    delays = [Backoff(rng=random.Random(seed)).next_delay() for seed in range(1000)]
    per_tenth = [sum(1 for d in delays if k / 10 <= d < (k + 1) / 10) for k in range(10)]
    assert max(per_tenth) < 150  # roughly uniform over [0, 1 s], not all at once


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    # Polling is the point here: the condition is plain state, with no event to wait on.
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
