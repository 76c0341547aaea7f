"""A Linux venue PC whose system cannot lock (no logind session for the agent, no
screensaver: ``loginctl lock-session`` and ``xdg-screensaver lock`` both fail) used to fail
silently, leaving only the Tk lock view with Tk's local grab: other programs on the display
still took the keyboard. Now the lock view is the lock: it holds the keyboard and pointer
for the whole display (an X11 global grab), which another X client's ``XGrabKeyboard``
proves (``AlreadyGrabbed``). Real Tk on Xvfb, the real LinuxControl running real commands
that are not there."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from gameops.agent.control.linux import LinuxControl
from gameops.agent.desktop import EXIT, DesktopPart
from tests.agent.screen import VirtualDisplay
from tests.support.waiting import eventually

GRAB_SUCCESS, ALREADY_GRABBED = 0, 1
LOCKED = {"op": "view", "mode": "locked", "message": "No session"}


def keyboard_grab_status(display: str) -> int:
    """What another X client gets when it tries to grab the keyboard now."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XGrabKeyboard.argtypes = (
        [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_int] * 3 + [ctypes.c_ulong]
    )
    x11.XUngrabKeyboard.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    assert connection, f"cannot open {display}"
    try:
        root = x11.XDefaultRootWindow(connection)
        status = int(x11.XGrabKeyboard(connection, root, 0, 1, 1, 0))  # async modes, now
        if status == GRAB_SUCCESS:
            x11.XUngrabKeyboard(connection, 0)
        return status
    finally:
        x11.XCloseDisplay(connection)


@pytest.fixture
def overlay_on(
    display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[DesktopPart]]:
    monkeypatch.setenv("DISPLAY", display.name)
    parts: list[DesktopPart] = []
    yield parts
    for part in parts:
        part.inbox.put(EXIT)
    for thread in [t for t in threading.enumerate() if t.name == "overlay-under-test"]:
        thread.join(5)


def start(parts: list[DesktopPart], control: LinuxControl) -> DesktopPart:
    part = DesktopPart("PC-LINUX", control)
    threading.Thread(target=part.show, name="overlay-under-test", daemon=True).start()
    parts.append(part)
    part.inbox.put(LOCKED)
    return part


async def test_without_a_system_lock_the_lock_view_holds_the_keyboard(
    display: VirtualDisplay,
    overlay_on: list[DesktopPart],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    control = LinuxControl()  # the real commands, and none of them installed:
    monkeypatch.setenv("PATH", str(tmp_path))
    part = start(overlay_on, control)
    await eventually(grab_status(display), lambda s: s == 0, 10)

    part.inbox.put({"op": "lock"})
    await eventually(_value(lambda: control.system_lock_available), lambda ok: ok is False, 10)
    for _ in range(3):  # the views the service sends every second
        part.inbox.put(LOCKED)
    await eventually(grab_status(display), lambda s: s == ALREADY_GRABBED, 10)

    # A session starts: the desktop is the customer's again.
    part.inbox.put({"op": "view", "mode": "session", "remaining": 600, "band": "green"})
    await eventually(grab_status(display), lambda s: s == GRAB_SUCCESS, 10)


async def test_where_the_system_locks_the_lock_view_leaves_the_keyboard_to_it(
    display: VirtualDisplay, overlay_on: list[DesktopPart]
) -> None:
    ran: list[Sequence[str]] = []

    def logind(argv: Sequence[str]) -> bool:
        ran.append(argv)
        return True

    control = LinuxControl(run=logind)
    part = start(overlay_on, control)
    part.inbox.put({"op": "lock"})
    await eventually(_value(lambda: control.system_lock_available), lambda ok: ok is True, 10)
    assert ran[0][:2] == ["loginctl", "lock-session"]
    for _ in range(3):
        part.inbox.put(LOCKED)
    await eventually(_value(part.inbox.empty), bool, 10)
    assert keyboard_grab_status(display.name) == GRAB_SUCCESS


def grab_status(display: VirtualDisplay) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return keyboard_grab_status(display.name)

    return probe


def _value(read: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def probe() -> object:
        return read()

    return probe
