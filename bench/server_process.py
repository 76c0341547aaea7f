"""What the benches share: ``gameops serve`` started as its own process on a fresh data
folder, waiting for it to answer ``/health``, and the line that says where a figure was
measured (docs/benchmarks.md wants the machine, its load and the time beside each)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

ADMIN_PASSWORD = "bench-admin-password"


def start_gameops(
    port: int, data_dir: Path, settings: Mapping[str, str] | None = None, src: str | None = None
) -> subprocess.Popen[bytes]:
    """``gameops serve`` on ``port`` with ``data_dir`` (its log in ``server.log`` there),
    the admin's password known, ``settings`` as GAMEOPS_* variables; ``src``: a ``src/``
    folder to run the server from instead of the installed package (a before/after run)."""
    env = {
        **os.environ,
        "GAMEOPS_DATA_DIR": str(data_dir),
        "GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GAMEOPS_LOG_LEVEL": "WARNING",
        # Benches sell sessions to measure delivery, not the till: no counted drawer needed.
        "GAMEOPS_REQUIRE_OPEN_SHIFT": "false",
        **(settings or {}),
    }
    if src:
        env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    log = (data_dir / "server.log").open("wb")
    command = [sys.executable, "-m", "gameops.cli", "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


async def wait_healthy(base_url: str, seconds: float = 60) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(int(seconds * 10)):
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"server did not become healthy in {seconds:g} s; see server.log")


def where_measured() -> str:
    """``machine: x86_64, 2 cores, 24 GiB, Python 3.11.7; load 2.1, 3.0, 3.5; 2026-11-30
    09:20 UTC``."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
        f"load {load}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
