"""The watchdog over the user-session part, with real child processes and a real local
channel: launch failures, deaths, freezes (SIGSTOP), and the state a new child is given."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from gameops.agent.channel import DesktopChannel
from gameops.agent.localwire import encode_line
from gameops.agent.supervisor import (
    Child,
    Exit,
    Supervisor,
    SupervisorHooks,
    launch_subprocess,
)
from tests.agent.harness import wait_until

# A stand-in user-session part: says hello on the channel and answers every ping, as the
# real overlay does from its window loop (no display needed).
ANSWERING_CHILD = """
import json, os, socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
hello = {"op": "hello", "secret": os.environ["S"], "pid": os.getpid()}
conn.sendall(json.dumps(hello).encode() + b"\\n")
for line in conn.makefile("rb"):
    message = json.loads(line)
    if message.get("op") == "ping":
        conn.sendall(json.dumps({"op": "pong", "seq": message["seq"]}).encode() + b"\\n")
"""


@contextlib.asynccontextmanager
async def running(supervisor: Supervisor) -> AsyncIterator[Supervisor]:
    task = asyncio.create_task(supervisor.run())
    try:
        yield supervisor
    finally:
        await supervisor.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_any_launch_error_is_reported_and_retried_with_capped_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: an error other than NoUserSession (here Windows' ERROR_PRIVILEGE_NOT_HELD)
    # ended the watchdog for good, and nothing noticed.
    monkeypatch.setattr("gameops.agent.supervisor.RESTART_DELAY", 0.01)
    monkeypatch.setattr("gameops.agent.supervisor.LAUNCH_RETRY_CAP", 0.05)
    failures: list[tuple[str, int]] = []
    attempts = 0

    async def launcher(command: Sequence[str], env: dict[str, str]) -> Child:
        nonlocal attempts
        attempts += 1
        if attempts <= 4:
            raise OSError(1314, "A required privilege is not held by the client")
        return await launch_subprocess([sys.executable, "-c", "import time; time.sleep(60)"], {})

    hooks = SupervisorHooks(
        on_exit=lambda end: None,
        on_launch_failed=lambda err, count: failures.append((repr(err), count)),
    )
    supervisor = Supervisor(["overlay"], {}, hooks, launcher)
    async with running(supervisor):
        await wait_until(lambda: supervisor.starts == 1, seconds=10)
        assert not supervisor.failing
    assert [count for _, count in failures] == [1, 2, 3, 4]
    assert "1314" in failures[0][0]


async def test_a_failing_launch_marks_the_overlay_unavailable_until_one_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gameops.agent.supervisor.RESTART_DELAY", 0.01)
    monkeypatch.setattr("gameops.agent.supervisor.LAUNCH_RETRY_CAP", 0.02)
    allowed = asyncio.Event()

    async def launcher(command: Sequence[str], env: dict[str, str]) -> Child:
        if not allowed.is_set():
            raise RuntimeError("CreateProcessAsUserW failed")
        return await launch_subprocess([sys.executable, "-c", "import time; time.sleep(60)"], {})

    supervisor = Supervisor(["overlay"], {}, SupervisorHooks(lambda end: None), launcher)
    async with running(supervisor):
        await wait_until(lambda: supervisor.failing)
        allowed.set()
        await wait_until(lambda: supervisor.starts == 1, seconds=5)
        assert not supervisor.failing


async def test_every_death_reaches_the_hook_and_the_child_is_back_within_a_second() -> None:
    ends: list[Exit] = []
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervisor = Supervisor(sleeper, {}, SupervisorHooks(ends.append))
    async with running(supervisor):
        for kill in range(1, 4):
            await wait_until(lambda: supervisor.process is not None, seconds=5)
            assert supervisor.process is not None
            supervisor.process.kill()
            killed_at = time.monotonic()
            await wait_until(lambda kill=kill: supervisor.starts == kill + 1, seconds=5)  # type: ignore[misc]
            assert time.monotonic() - killed_at < 1.0
    assert [end.returncode for end in ends] == [-signal.SIGKILL] * 3


async def test_a_frozen_child_is_killed_and_restarted() -> None:
    channel = DesktopChannel()
    port = await channel.start()
    ends: list[Exit] = []
    command = [sys.executable, "-c", ANSWERING_CHILD, str(port)]
    supervisor = Supervisor(
        command, {"S": channel.secret}, SupervisorHooks(ends.append), liveness=channel
    )
    async with running(supervisor):
        await wait_until(lambda: channel.connected, seconds=10)
        await wait_until(lambda: (channel.silent_for() or 9) < 0.6, seconds=5)  # answering
        assert supervisor.process is not None
        os.kill(supervisor.process.pid, signal.SIGSTOP)  # frozen, as a customer can do
        stopped_at = time.monotonic()
        await wait_until(lambda: bool(ends), seconds=5)
        detected = time.monotonic() - stopped_at
        await wait_until(lambda: supervisor.starts == 2, seconds=2)
    await channel.close()
    assert ends[0].frozen and ends[0].answered
    assert 2.0 <= detected < 3.5  # the 2 s answer limit, checked every 0.5 s


async def test_a_lock_ordered_while_the_overlay_was_dead_is_replayed_to_the_next_one() -> None:
    # Before: only the last view was replayed; the lock (LockWorkStation) was lost.
    channel = DesktopChannel()
    port = await channel.start()
    channel.push({"op": "view", "mode": "session", "remaining": 60})
    channel.push({"op": "view", "mode": "locked", "message": "Session ended"})
    channel.push({"op": "lock"})  # nobody connected: the overlay is dead right now
    received = await asyncio.to_thread(_connect_and_read, port, channel.secret, 2)
    await channel.close()
    assert [message["op"] for message in received] == ["view", "lock"]
    assert received[0]["mode"] == "locked"


async def test_a_session_view_clears_the_pending_lock() -> None:
    channel = DesktopChannel()
    port = await channel.start()
    channel.push({"op": "lock"})
    channel.push({"op": "view", "mode": "session", "remaining": 60})
    received = await asyncio.to_thread(_connect_and_read, port, channel.secret, 1)
    await channel.close()
    assert [message["op"] for message in received] == ["view"]


def _connect_and_read(port: int, secret: str, count: int) -> list[dict[str, object]]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(encode_line({"op": "hello", "secret": secret, "pid": os.getpid()}))
        reader = conn.makefile("rb")
        return [json.loads(reader.readline()) for _ in range(count)]


async def test_the_child_gets_the_channel_secret_in_its_environment() -> None:
    ends: list[Exit] = []
    echo = [sys.executable, "-c", "import os; raise SystemExit(len(os.environ['S']))"]
    supervisor = Supervisor(echo, {"S": "12345"}, SupervisorHooks(ends.append))
    async with running(supervisor):
        await wait_until(lambda: bool(ends), seconds=10)
    assert ends[0].returncode == 5
    assert not ends[0].answered  # died at once: a failed start, not a person's doing


async def test_the_service_can_wait_until_the_overlay_handled_what_it_was_sent() -> None:
    channel = DesktopChannel()
    port = await channel.start()
    assert not await channel.caught_up(0.1)  # nobody connected
    child = await launch_subprocess(
        [sys.executable, "-c", ANSWERING_CHILD, str(port)], {"S": channel.secret}
    )
    await wait_until(lambda: channel.connected, seconds=10)
    channel.push({"op": "lock"})
    assert await channel.caught_up(5)
    child.kill()
    await child.wait()
    await channel.close()
