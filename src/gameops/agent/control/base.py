"""The interface every system-control backend implements, and the choice among them."""

from __future__ import annotations

import os
import sys
from typing import Literal, Protocol

PowerAction = Literal["restart", "shutdown"]


class SystemControl(Protocol):
    """Blocking calls: the runtime makes them from one worker thread, never the event loop."""

    name: str

    def lock_screen(self) -> None: ...

    def log_off(self) -> None: ...

    def keep_awake(self, enabled: bool) -> None: ...

    def idle_seconds(self) -> float | None:
        """Seconds since the last mouse or keyboard input; None when it cannot be read."""

    def notify(self, title: str, text: str) -> None: ...

    def power(self, action: PowerAction) -> bool:
        """Restart or shut the PC down now (a staff command); False when the system refused."""


def resolve_backend(name: str) -> str:
    """``auto`` as the backend this platform gets; any other name as it is."""
    if name != "auto":
        return name
    return "windows" if os.name == "nt" else "linux" if sys.platform == "linux" else "simulated"


def select_control(name: str, *, in_service: bool = False) -> SystemControl:
    """``name`` is ``auto``, ``windows``, ``linux`` or ``simulated``."""
    name = resolve_backend(name)
    if name == "windows":
        from .win32 import CtypesWin32
        from .windows import WindowsControl

        return WindowsControl(CtypesWin32(), in_service=in_service)
    if name == "linux":
        from .linux import LinuxControl

        return LinuxControl()
    if name == "simulated":
        from .simulated import SimulatedControl

        return SimulatedControl()
    raise ValueError(f"unknown system control backend {name!r}")
