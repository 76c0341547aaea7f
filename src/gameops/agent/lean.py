"""Keep what the agent's libraries import but never use out of its memory.

``websockets`` imports ``importlib.metadata`` at start-up (for a version string it only
computes in a development checkout) and ``urllib.request`` (for proxy discovery, which the
agent does only with ``backend.proxy: system``); they and what they pull in (zipfile, email,
http.client) cost the agent 4.2 MB of its 30 MB budget. Before the agent's imports, each is
entered as a stand-in that imports the real module on first use, so nothing can break:
code that does use one gets it, one attribute access later.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

UNUSED_AT_RUN_TIME = ("importlib.metadata", "urllib.request")


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until an attribute is asked for, then becomes the real one."""

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
