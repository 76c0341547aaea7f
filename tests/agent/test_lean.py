"""The agent's entry point keeps unused library imports out of memory, and nothing breaks:
the deferred modules load on first use, and OpenSSL loads only when TLS may be needed."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

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


TLS_PROBE = """
import sys
from gameops.agent.lean import defer_unused_imports
defer_unused_imports()
from gameops.agent.main import prepare
from pathlib import Path
config, parts = prepare(Path(sys.argv[1]))
import asyncio.sslproto, hashlib, hmac
import gameops.agent.link, gameops.agent.runtime  # everything the agent process loads
print(asyncio.sslproto.ssl is not None, "_ssl" in sys.modules, sys.modules["_hashlib"])
print(hmac.new(b"key", b"state", hashlib.sha256).hexdigest())
"""


@pytest.mark.parametrize(
    ("url", "proxy", "tls_loaded"),
    [
        ("ws://server.lan:8000", "none", False),
        ("http://server.lan:8000", "none", False),
        ("wss://server.lan:8000", "none", True),
        ("ws://server.lan:8000", "https://proxy.lan:3128", True),  # the proxy may be TLS
        ("ws://server.lan:8000", "system", True),
    ],
)
def test_openssl_is_loaded_only_for_a_server_or_proxy_that_may_need_it(
    tmp_path: Path, url: str, proxy: str, tls_loaded: bool
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"station: {{id: '{uuid.uuid4()}', name: PC-LEAN}}\n"
        f"backend: {{url: '{url}', token: 'gat_{'x' * 43}', proxy: '{proxy}'}}\n"
        "system: {control: simulated}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", TLS_PROBE, str(config)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.splitlines() == [
        f"{tls_loaded} {tls_loaded} None",  # hashes: CPython's own, never OpenSSL's
        hmac.new(b"key", b"state", hashlib.sha256).hexdigest(),  # the same HMAC as OpenSSL's
    ]
