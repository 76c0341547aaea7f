"""The service part's watchdog over the user-session part: start it, and when it dies
(a customer ending it from Task Manager) report it and start it again within seconds.

How the child is started is a :class:`Launcher`: a plain subprocess by default; from a
Windows service, in the logged-on user's desktop session (:mod:`.control.usersession`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from .logs import get_logger

log = get_logger(__name__)

RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 4.0  # with start-up time, the overlay is back within 5 s
CRASH_LOOP_SECONDS = 3.0  # exiting sooner than this counts as a crash at start-up


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


async def launch_subprocess(command: Sequence[str], env: dict[str, str]) -> Child:
    return await asyncio.create_subprocess_exec(*command, env={**os.environ, **env})


def desktop_command(port: int, station_name: str, control: str) -> list[str]:
    return [
        sys.executable, "-m", "gameops.agent.desktop",
        "--port", str(port), "--station", station_name, "--control", control,
        "--service-pid", str(os.getpid()),
    ]  # fmt: skip


class Supervisor:
    """Keeps one child process running; ``on_unexpected_exit(returncode)`` hears of each
    death, except repeats within a crash loop."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        on_unexpected_exit: Callable[[int], None],
        launcher: Launcher = launch_subprocess,
    ) -> None:
        self.command = list(command)
        self.env = env
        self.on_unexpected_exit = on_unexpected_exit
        self.launcher = launcher
        self.process: Child | None = None
        self.starts = 0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        delay, failed_starts = RESTART_DELAY, 0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            try:
                returncode = await self._run_once()
            except NoUserSession:
                await asyncio.sleep(MAX_RESTART_DELAY)  # not a tamper: nobody logged on
                continue
            if self._stopping.is_set():
                return
            crashed_at_start = loop.time() - started < CRASH_LOOP_SECONDS
            failed_starts = failed_starts + 1 if crashed_at_start else 0
            if failed_starts <= 1:  # one report per crash loop (e.g. no display), not one a second
                self.on_unexpected_exit(returncode)
            delay = min(delay * 2, MAX_RESTART_DELAY) if crashed_at_start else RESTART_DELAY
            log.warning("desktop_part_exited", returncode=returncode, restart_in=delay)
            await asyncio.sleep(delay)

    async def _run_once(self) -> int:
        self.process = await self.launcher(self.command, self.env)
        self.starts += 1
        log.info("desktop_part_started", pid=self.process.pid)
        return await self.process.wait()

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
