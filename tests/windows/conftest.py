"""The Windows tier: the agent's Windows code on the real Windows build of CPython under
Wine (one prefix for the whole run), its windows on a virtual X display."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameops.server.settings import Settings
from tests.agent.screen import VirtualDisplay, require_display_tools
from tests.windows.wine import Wine, prepare_module, require_wine


@pytest.fixture(scope="session")
def windows_display() -> Iterator[VirtualDisplay]:
    require_display_tools(input_too=True)
    virtual = VirtualDisplay()
    yield virtual
    virtual.close()


@pytest.fixture(scope="session")
def wine(windows_display: VirtualDisplay) -> Iterator[Wine]:
    command = require_wine()
    layout = prepare_module().prepare()  # cached under build/windows after the first run
    # Not under pytest's basetemp: another pytest run on the machine may prune that.
    prefix_dir = Path(tempfile.mkdtemp(prefix="gameops-wineprefix-"))
    prefix = Wine(command, layout.python_exe, prefix_dir, windows_display.name)
    started = time.monotonic()
    prefix.boot()
    print(f"wine prefix booted in {time.monotonic() - started:.1f} s")
    yield prefix
    prefix.shutdown()
    shutil.rmtree(prefix_dir, ignore_errors=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite-wide server settings, with a 1 s log-off grace and heartbeat."""
    return settings.model_copy(update={"logoff_grace_seconds": 1, "heartbeat_interval_seconds": 1})
