"""Keep what the agent's libraries import but never use out of its memory.

``websockets`` imports ``importlib.metadata`` at start-up (for a version string it only
computes in a development checkout) and ``urllib.request`` (for proxy discovery, which the
agent does only with ``backend.proxy: system``); they and what they pull in (zipfile, email,
http.client) cost the agent 4.2 MB of its 30 MB budget. Before the agent's imports, each is
entered as a stand-in that imports the real module on first use, so nothing can break:
code that does use one gets it, one attribute access later.

OpenSSL is the other large library the agent need not load. Under Wine (the Windows agent,
docs/benchmarks.md) ``_hashlib`` maps OpenSSL's libcrypto for 9.2 MB, and ``ssl``
(which ``asyncio`` imports whether or not anything connects over TLS) 4.3 MB more. The
agent hashes only with SHA-256 (its HMACs), which CPython has built in, so ``hashlib`` and
``hmac`` are left to that; and a station whose server is ``ws://`` with no proxy never
loads ``ssl`` at all (:func:`leave_out_tls`).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

UNUSED_AT_RUN_TIME = ("importlib.metadata", "urllib.request")
# hashlib and hmac fall back to CPython's built-in hashes when this import fails.
OPENSSL_HASHES = "_hashlib"


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until an attribute is asked for, then becomes the real one."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def _stand_in(name: str) -> None:
    stand_in = _OnFirstUse(name)
    sys.modules[name] = stand_in
    package, _, child = name.rpartition(".")
    if package:  # `import importlib.metadata` finds the stand-in, then reads it off the package.
        setattr(importlib.import_module(package), child, stand_in)


def defer_unused_imports() -> None:
    """Call first thing in the agent's entry point, before importing the agent."""
    for name in UNUSED_AT_RUN_TIME:
        if name not in sys.modules:
            _stand_in(name)
    if OPENSSL_HASHES not in sys.modules:
        # What a CPython built without OpenSSL has: hashlib's and hmac's own fallback.
        sys.modules[OPENSSL_HASHES] = None  # type: ignore[assignment]


def leave_out_tls() -> bool:
    """For a station that connects without TLS: load ``asyncio`` as if CPython had no
    ``ssl`` (its own ImportError path), and let later importers (websockets, which reaches
    for it only for an https:// proxy) get a stand-in that loads the real one on first use.

    Call before anything imports ``asyncio``; afterwards it is too late and does nothing.
    True when ``ssl`` was left out.
    """
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return False
    sys.modules["ssl"] = None  # type: ignore[assignment]
    try:
        importlib.import_module("asyncio")
    finally:
        _stand_in("ssl")
    return True
