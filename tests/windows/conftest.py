"""The Windows tier: the agent's Windows code on the real Windows build of CPython under
Wine (one prefix for the whole run), its windows on a virtual X display."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.agent.screen import VirtualDisplay, require_display_tools
from tests.windows.wine import Wine, prepare_module, require_wine


@pytest.fixture(scope="session")
def windows_display() -> Iterator[VirtualDisplay]:
    require_display_tools(input_too=True)
    virtual = VirtualDisplay()
    yield virtual
    virtual.close()


@pytest.fixture(scope="session")
def wine(
    windows_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Wine]:
    command = require_wine()
    layout = prepare_module().prepare()  # cached under build/windows after the first run
    prefix = Wine(
        command, layout.python_exe, tmp_path_factory.mktemp("wineprefix"), windows_display.name
    )
    started = time.monotonic()
    prefix.boot()
    print(f"wine prefix booted in {time.monotonic() - started:.1f} s")
    yield prefix
    prefix.shutdown()
