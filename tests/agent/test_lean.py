"""The agent's entry point keeps unused library imports out of memory, and nothing breaks."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from gameops.agent.lean import UNUSED_AT_RUN_TIME, defer_unused_imports
defer_unused_imports()
import gameops.agent.main  # everything the agent process loads
print(sorted(type(sys.modules[name]).__name__ for name in UNUSED_AT_RUN_TIME))
print("structlog" in sys.modules, "pydantic" in sys.modules, "tkinter" in sys.modules)
import importlib.metadata, urllib.request  # a library that does use them gets the real thing
print(importlib.metadata.version("websockets") != "", callable(urllib.request.getproxies))
print(sorted(type(sys.modules[name]).__name__ for name in UNUSED_AT_RUN_TIME))
"""


def test_unused_imports_are_deferred_until_first_use() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == [
        "['_OnFirstUse', '_OnFirstUse']",  # imported by websockets, never loaded
        "False False False",  # the server's logging and models, the overlay's Tk: not loaded
        "True True",
        "['module', 'module']",
    ]
