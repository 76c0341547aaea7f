"""``gameops`` commands run as a user runs them: their own process, stopped with a real
signal, their output read line by line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys


def _default_sigint() -> None:
    # A shell's background job starts with SIGINT ignored, which Python keeps: undo that, as
    # a terminal's Ctrl+C reaches a foreground program.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def spawn_cli(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """``gameops ARGS...`` with its standard output and error merged into ``stdout``."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gameops.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})}, preexec_fn=_default_sigint,
    )  # fmt: skip


async def read_until(process: asyncio.subprocess.Process, text: str, seconds: float) -> str:
    """The first line of output holding ``text``, within ``seconds``."""
    assert process.stdout is not None
    async with asyncio.timeout(seconds):
        while line := (await process.stdout.readline()).decode():
            if text in line:
                return line
    raise AssertionError(f"the command ended without printing {text!r}")


async def kill_if_running(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()
