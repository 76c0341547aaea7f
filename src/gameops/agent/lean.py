"""Keep what the agent's libraries import but never use out of its memory.

``websockets`` imports ``importlib.metadata`` at start-up (for a version string it only
computes in a development checkout); that module and what it pulls in (zipfile, email, csv)
cost the agent 2.9 MB of its 30 MB budget. Before the agent's imports, such a module is
entered as a stand-in that imports the real module on first use, so nothing can break:
code that does use it gets it, one attribute access later.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

UNUSED_AT_RUN_TIME = ("importlib.metadata", "urllib.request")


class _OnFirstUse(types.ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def defer_unused_imports() -> None:
    """Call first thing in the agent's entry point, before importing the agent."""
    for name in UNUSED_AT_RUN_TIME:
        if name in sys.modules:
            continue
        stand_in = _OnFirstUse(name)
        sys.modules[name] = stand_in
        package, _, child = name.rpartition(".")
        # `import importlib.metadata` finds the stand-in, then reads it off the package.
        setattr(importlib.import_module(package), child, stand_in)
