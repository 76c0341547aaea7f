"""The agent as a real process (``python -m gameops.agent``) for attack tests: its config,
its JSON log, its overlay child, its signed state file; and where the figures go."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from gameops.agent.statefile import StateFile, state_key

FIGURES = Path(os.environ.get("GAMEOPS_SCREENSHOTS", "build/screenshots")).parent / "attacks"


def record_figures(name: str, **figures: object) -> None:
    """Keep what an attack test measured (build/attacks/<name>.json) and print it."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    text = json.dumps(figures, indent=1, default=str)
    (FIGURES / f"{name}.json").write_text(text)
    print(f"{name}: {text}")


@dataclass
class AgentProcess:
    tmp_path: Path
    base_url: str
    station_id: str
    token: str
    overlay: bool = False
    grace: int = 5
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    _log_start: int = 0

    @property
    def config(self) -> Path:
        return self.tmp_path / "config.yaml"

    @property
    def state_path(self) -> Path:
        return self.tmp_path / "state.json"

    @property
    def log_path(self) -> Path:
        return self.tmp_path / "agent.log"

    def write_config(self) -> None:
        overlay = "{show_overlay: true}" if self.overlay else "{show_overlay: false}"
        self.config.write_text(
            f"station: {{id: '{self.station_id}', name: PC-ATTACK}}\n"
            f"backend: {{url: '{self.base_url}', token: '{self.token}'}}\n"
            f"features: {overlay}\n"
            f"session: {{grace_period: {self.grace}}}\n"
            "system: {control: simulated, overlay: separate, "
            f"overlay_restarts_per_minute: 3, state_file: '{self.state_path}'}}\n"
            f"log: {{file: '{self.log_path}', format: json, level: DEBUG}}\n"
        )

    async def start(self) -> AgentProcess:
        """Start (again): :meth:`logged` then reads only this run's log."""
        self.write_config()
        self._log_start = len(self._all_log())
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gameops.agent", "--config", str(self.config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )  # fmt: skip
        return self

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), 20)

    def overlay_pids(self) -> list[int]:
        assert self.process is not None
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        return [child.pid for child in children if _is_overlay(child)]

    def log(self) -> list[dict[str, Any]]:
        """This run's log entries."""
        return self._all_log()[self._log_start :]

    def _all_log(self) -> list[dict[str, Any]]:
        try:
            text = self.log_path.read_text()
        except FileNotFoundError:
            return []
        # The agent may be halfway through writing its last line: read only finished lines.
        finished = text[: text.rfind("\n") + 1].splitlines()
        return [json.loads(line) for line in finished if line.startswith("{")]

    def logged(self, event: str, **fields: object) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.log()
            if entry["event"] == event and all(entry.get(k) == v for k, v in fields.items())
        ]

    def seconds_between(self, first: str, then: str) -> float:
        """Between the first log entries of two events, by the log's own timestamps."""
        [start, end] = [self.logged(event)[0]["timestamp"] for event in (first, then)]
        moments = [datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in (start, end)]
        return (moments[1] - moments[0]).total_seconds()

    def state(self) -> StateFile:
        return StateFile(self.state_path, state_key(self.token))


def _is_overlay(process: psutil.Process) -> bool:
    try:
        return "gameops.agent.desktop" in " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return False


async def poll(condition: Any, seconds: float = 10.0, every: float = 0.02) -> float:
    """Wait until ``condition()`` is true; returns how long that took (monotonic seconds)."""
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling process state and files
            await asyncio.sleep(every)
    return time.monotonic() - started


async def station(admin: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await admin.get(f"/api/v1/stations/{station_id}")).json()
    return body


async def events(admin: httpx.AsyncClient, kind: str, station_id: str) -> list[dict[str, Any]]:
    """The server's events of ``kind`` for the station, oldest first."""
    params = {"type": kind, "station_id": station_id, "order": "asc"}
    items: list[dict[str, Any]] = (await admin.get("/api/v1/events", params=params)).json()["items"]
    return items
