"""The service part's watchdog over the user-session part: start it; when it dies (a
customer ending it from Task Manager) or stops answering (frozen: ``SIGSTOP``, a hung
window loop) report it and start it again within a second.

How the child is started is a :class:`Launcher`: a plain subprocess by default; from a
Windows service, in the logged-on user's desktop session (:mod:`.control.usersession`).
A launcher that fails (``NoUserSession`` aside) is retried with capped backoff for as long
as the agent runs; the runtime locks through the system backend meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .logs import get_logger

log = get_logger(__name__)

RESTART_DELAY = 0.1  # after a death: with start-up time the overlay is back within 1 s
MAX_RESTART_DELAY = 4.0  # a child that keeps dying at start-up (no display, say)
LAUNCH_RETRY_CAP = 30.0  # a launcher that keeps failing (OSError 1314, say)
CRASH_LOOP_SECONDS = 3.0  # exiting sooner than this, never having answered: a failed start
PING_SECONDS = 0.5  # how often the child is asked to answer over the local channel
FREEZE_SECONDS = 2.0  # no answer for this long: frozen (SIGSTOP, hung), killed and restarted
STARTUP_SECONDS = 10.0  # a child that never answers within this is stuck at start-up


class Child(Protocol):
    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class NoUserSession(Exception):
    """Nobody is logged on to the desktop: there is nowhere to show the overlay yet."""


Launcher = Callable[[Sequence[str], dict[str, str]], Awaitable[Child]]


class Liveness(Protocol):
    """The child's answers over the local channel (:class:`.channel.DesktopChannel`)."""

    def child_started(self) -> None:
        """Forget what the previous child said: a new one has just been started."""

    def ping(self) -> None: ...

    def silent_for(self) -> float | None:
        """Seconds since the current child last answered; None if it never has."""


@dataclass(frozen=True)
class Exit:
    """How one child ended."""

    returncode: int | None
    ran_for: float  # seconds
    answered: bool  # it reached the channel: a person ended it, not a failed start
    frozen: bool = False  # we killed it: it stopped answering pings


@dataclass
class SupervisorHooks:
    on_exit: Callable[[Exit], None]
    on_launch_failed: Callable[[Exception, int], None] = lambda err, failures: None


async def launch_subprocess(command: Sequence[str], env: dict[str, str]) -> Child:
    return await asyncio.create_subprocess_exec(*command, env={**os.environ, **env})


def desktop_command(port: int, station_name: str, control: str, language: str = "en") -> list[str]:
    return [
        sys.executable, "-m", "gameops.agent.desktop",
        "--port", str(port), "--station", station_name, "--control", control,
        "--language", language, "--service-pid", str(os.getpid()),
    ]  # fmt: skip


class Supervisor:
    """Keeps one child process running and answering; every end is passed to the hooks."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        hooks: SupervisorHooks,
        launcher: Launcher = launch_subprocess,
        liveness: Liveness | None = None,
    ) -> None:
        self.command = list(command)
        self.env = env
        self.hooks = hooks
        self.launcher = launcher
        self.liveness = liveness
        self.process: Child | None = None
        self.starts = 0
        self.launch_failures = 0  # in a row; 0 once a launch works
        self.failed_starts = 0  # children in a row that died before answering
        self._stopping = asyncio.Event()

    @property
    def failing(self) -> bool:
        """The overlay cannot be shown now: its launch or its start-up keeps failing."""
        return self.launch_failures > 0 or self.failed_starts > 0

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                ended = await self._run_once()
            except NoUserSession:
                await self._pause(MAX_RESTART_DELAY)  # not a tamper: nobody logged on
                continue
            except Exception as err:  # e.g. OSError(1314): keep trying, never give up
                self.launch_failures += 1
                log.error(
                    "desktop_part_launch_failed", error=repr(err), attempt=self.launch_failures
                )
                self.hooks.on_launch_failed(err, self.launch_failures)
                await self._pause(min(LAUNCH_RETRY_CAP, RESTART_DELAY * 2**self.launch_failures))
                continue
            if self._stopping.is_set():
                return
            self._after_exit(ended)
            await self._pause_after(ended)

    def _after_exit(self, ended: Exit) -> None:
        self.failed_starts = 0 if ended.answered else self.failed_starts + 1
        self.hooks.on_exit(ended)
        log.warning(
            "desktop_part_exited",
            returncode=ended.returncode,
            frozen=ended.frozen,
            answered=ended.answered,
        )

    async def _pause_after(self, ended: Exit) -> None:
        crashed = not ended.answered and ended.ran_for < CRASH_LOOP_SECONDS
        delay = RESTART_DELAY * 2**self.failed_starts if crashed else RESTART_DELAY
        await self._pause(min(delay, MAX_RESTART_DELAY))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _run_once(self) -> Exit:
        self.process = process = await self.launcher(self.command, self.env)
        self.launch_failures = 0
        self.starts += 1
        log.info("desktop_part_started", pid=process.pid, start=self.starts)
        return await self._watch(process)

    async def _watch(self, process: Child) -> Exit:
        """Wait for the child to end; kill it when it stops answering pings."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.liveness is not None:
            self.liveness.child_started()
        waiter = asyncio.ensure_future(process.wait())
        frozen = False
        answered = False
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=PING_SECONDS)
            if waiter.done() or self.liveness is None or self._stopping.is_set():
                continue
            silent = self.liveness.silent_for()
            answered = answered or silent is not None
            if self._unresponsive(silent, loop.time() - started):
                frozen = True
                log.warning("desktop_part_frozen", pid=process.pid, silent_for=silent)
                process.kill()  # SIGKILL ends a SIGSTOPped process too
                break
            self.liveness.ping()
        returncode = await waiter
        if self.liveness is not None:  # it may have answered since the last look
            answered = answered or self.liveness.silent_for() is not None
        # Without a channel to ask, a child that lived past start-up is taken to have run.
        ran_for = loop.time() - started
        if self.liveness is None:
            answered = ran_for >= CRASH_LOOP_SECONDS
        return Exit(returncode, ran_for, answered, frozen)

    @staticmethod
    def _unresponsive(silent: float | None, ran_for: float) -> bool:
        if silent is None:
            return ran_for > STARTUP_SECONDS
        return silent > FREEZE_SECONDS

    async def stop(self) -> None:
        self._stopping.set()
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5)
            return
        process.kill()
        await process.wait()
