"""Wake-on-LAN in tests: a UDP socket stands for the venue's LAN, magic packets land in it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from gameops.server.settings import Settings


@pytest.fixture
def udp_receiver() -> Iterator[socket.socket]:
    """A UDP socket on a free port (import it into a test module to use it)."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("0.0.0.0", 0))
    receiver.settimeout(10)
    yield receiver
    receiver.close()


def waking_to(settings: Settings, receiver: socket.socket, **more: Any) -> Settings:
    """``settings`` whose magic packets go to ``receiver``'s port."""
    return settings.model_copy(update={"wake_port": receiver.getsockname()[1], **more})


def net_specs(mac: str, ip: str) -> dict[str, Any]:
    """An agent's specs naming one network interface: what a wake needs to know of a PC."""
    return {"macs": [mac], "interfaces": {mac: f"{ip}/8"}}
