"""The real Windows build of CPython under Wine, for the Windows test tier.

``scripts/windows/prepare.py`` unpacks the python.org Windows CPython (with Tk) and the
agent's ``win_amd64`` wheels under ``build/windows/`` (cached); :class:`Wine` runs it in a
Wine prefix of its own, with this checkout's ``src`` on its path and the overlay drawn on a
virtual X display. Nothing is faked: ``ctypes.windll`` calls reach Wine's implementations of
user32, kernel32, wtsapi32, advapi32 and userenv.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.agent.screen import Screenshot, VirtualDisplay, save

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src"
PROBES = Path(__file__).resolve().parent / "probes"
BOOT_SECONDS = 180  # a first prefix takes 10-40 s on the 2-core CI machine


def require_wine() -> str:
    """The ``wine`` command; skips without it, except on CI (CI=true), where that fails."""
    wine = shutil.which("wine") or shutil.which("wine64")
    if wine is not None:
        return wine
    reason = "Wine missing (apt-get install wine64): the Windows tier runs Windows CPython on it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def prepare_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gameops_prepare_windows", ROOT / "scripts" / "windows" / "prepare.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def windows_path(path: Path) -> str:
    """The path as a Windows program sees it: Wine maps the Unix root to drive Z:."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def wineserver() -> str:
    for candidate in ("wineserver", "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"):
        found = shutil.which(candidate)
        if found:
            return found
    raise FileNotFoundError("wineserver")


class Wine:
    """One Wine prefix (booted once) running the prepared Windows Python."""

    def __init__(self, wine: str, python_exe: Path, prefix: Path, display: str) -> None:
        self.wine = wine
        self.python_exe = python_exe
        self.prefix = prefix
        self.display = display

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=",  # no Mono/Gecko installer prompts
            "DISPLAY": self.display,
            "PYTHONPATH": windows_path(SOURCE),
            "PYTHONUNBUFFERED": "1",
            "PYTHONUTF8": "1",
            **extra,
        }

    def command(self, *args: str) -> list[str]:
        return [self.wine, str(self.python_exe), *args]

    def boot(self) -> None:
        """Create the prefix, then two settings in its registry:

        - the agent's source on PYTHONPATH in the user's environment (HKCU\\Environment),
          where CreateEnvironmentBlock reads it: the overlay a service starts in the user's
          session finds the agent there, as it finds it installed on a venue PC;
        - no window manager: the virtual display has none, and Wine would otherwise wait
          2 s for one each time a full-screen window is hidden (the lock view giving way to
          the timer), long enough for the service to take the overlay as frozen.
        """
        self.python(["-c", "import sys; print(sys.version)"], timeout=BOOT_SECONDS)
        self.set_registry("HKCU\\Environment", "PYTHONPATH", windows_path(SOURCE))
        self.set_registry("HKCU\\Software\\Wine\\X11 Driver", "Managed", "N")

    def set_registry(self, key: str, name: str, value: str) -> None:
        subprocess.run(
            [self.wine, "reg", "add", key, "/v", name, "/t", "REG_SZ", "/d", value, "/f"],
            env=self.env(), stdin=subprocess.DEVNULL, capture_output=True, check=True,
            timeout=60,
        )  # fmt: skip

    def python(
        self, args: list[str], *, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        # stdout and stderr are pipes: Windows CPython under Wine cannot start its standard
        # streams on some inherited file descriptors (a plain file, say).
        result = subprocess.run(
            self.command(*args), env=self.env(**(env or {})), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise AssertionError(
                f"Windows python {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def probe(self, name: str, *args: str, timeout: float = 60) -> dict[str, Any]:
        """Run ``probes/<name>.py`` on Windows Python; it prints one JSON object last."""
        result = self.python([windows_path(PROBES / f"{name}.py"), *args], timeout=timeout)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        assert lines, f"probe {name} printed no JSON\n{result.stdout}\n{result.stderr}"
        answer: dict[str, Any] = json.loads(lines[-1])
        return answer

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> WineProcess:
        process = subprocess.Popen(
            self.command(*args), env=self.env(**(env or {})), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return WineProcess(process)

    def shutdown(self) -> None:
        subprocess.run(
            [wineserver(), "-k"], env=self.env(), stdin=subprocess.DEVNULL,
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip


class WineProcess:
    """A Windows python under Wine: its output, read as it comes, line by line.

    Plain ``subprocess`` with a reader thread, not asyncio's: Wine's own processes
    (wineserver, services) can inherit the pipe and keep it open after the python exits,
    and asyncio waits for the pipes to close before it reports an exit."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace").rstrip())

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        stdin = self.process.stdin

        def write() -> None:
            stdin.write(line.encode() + b"\n")
            stdin.flush()

        await asyncio.to_thread(write)

    async def wait(self, seconds: float = 30) -> int:
        return await asyncio.to_thread(self.process.wait, seconds)

    async def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        await self.wait()

    def output(self) -> str:
        return "\n".join(self.lines)


async def wait_for_colour(
    display: VirtualDisplay, point: tuple[int, int], colour: str, name: str, seconds: float = 40
) -> Screenshot:
    """Screenshots until ``point`` shows ``colour``; saves the last one as PNG. Longer than
    tests/agent's wait: Windows CPython starting under Wine takes a few seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    shot = await asyncio.to_thread(display.screenshot)
    while shot.pixel(*point) != colour and loop.time() < deadline:
        await asyncio.sleep(0.2)
        shot = await asyncio.to_thread(display.screenshot)
    await asyncio.to_thread(save, shot, name)
    assert shot.pixel(*point) == colour, f"{name}: {shot.pixel(*point)} at {point}"
    return shot
