"""Runs a real agent (service part) in the test's event loop against a real server."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent.backoff import Backoff
from gameops.agent.config import AgentConfig, parse_config
from gameops.agent.control import SimulatedControl
from gameops.agent.link import LinkTuning
from gameops.agent.logs import fields_of
from gameops.agent.runtime import Agent, AgentParts
from gameops.agent.statefile import StateFile, state_key
from tests.support.waiting import until


def agent_config(
    url: str,
    station_id: str,
    token: str,
    *,
    overlay: bool = False,
    overlay_mode: str = "separate",
    grace: int = 1,
    ca_file: Path | None = None,
    **system: Any,
) -> AgentConfig:
    return parse_config(
        {
            "station": {"id": station_id, "name": "PC-TEST"},
            "backend": {"url": url, "token": token, "ca_file": ca_file},
            "features": {"show_overlay": overlay},
            "session": {"warning_time": 300, "grace_period": grace},
            "system": {
                "control": "simulated",
                "monitor_interval": 5,
                "overlay": overlay_mode,
                **system,
            },
        }
    )


def state_file(config: AgentConfig, path: Path) -> StateFile:
    """The agent's state file, signed with the key its token gives it."""
    return StateFile(path, state_key(config.backend.token))


class RunningAgent:
    """An :class:`Agent` with a recording backend, started as a task."""

    def __init__(self, config: AgentConfig, state_path: Path, **parts: Any) -> None:
        self.control = SimulatedControl()
        defaults: dict[str, Any] = {
            "specs": {"cpu_model": "test"},
            "backoff": Backoff(base=0.2, cap=1.0, rng=random.Random(3)),
            "tuning": LinkTuning(restart_spread=0.2, rejected_floor=1.0),
        }
        self.agent = Agent(
            config,
            AgentParts(
                control=self.control, state=state_file(config, state_path), **{**defaults, **parts}
            ),
        )
        self.task: asyncio.Task[int] | None = None

    def start(self) -> RunningAgent:
        self.task = asyncio.create_task(self.agent.run())
        return self

    async def stop(self) -> None:
        self.agent.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)

    def remaining(self) -> int | None:
        return self.agent.machine.remaining_seconds(self.agent.parts.clock.now())

    def mode(self) -> str:
        return self.agent.machine.view(self.agent.parts.clock.now()).mode


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    await until(condition, timeout=seconds)


async def tamper_kinds(admin: httpx.AsyncClient) -> list[str]:
    """Kinds of the AGENT_TAMPER events the server recorded, newest first."""
    events = await admin.get("/api/v1/events", params={"type": "AGENT_TAMPER"})
    return [event["data"]["kind"] for event in events.json()["items"]]


async def wait_for_tamper(admin: httpx.AsyncClient, kind: str, seconds: float = 5.0) -> list[str]:
    """Poll the server's events until one of ``kind`` is there; returns all kinds."""
    async with asyncio.timeout(seconds):
        while kind not in (kinds := await tamper_kinds(admin)):  # noqa: ASYNC110 - polling HTTP
            await asyncio.sleep(0.1)
    return kinds


@contextmanager
def captured_events(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    """The agent's log events inside the block, as ``{"event": ..., **fields}``."""
    events: list[dict[str, Any]] = []
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        yield events
    events.extend({"event": record.getMessage(), **fields_of(record)} for record in caplog.records)
