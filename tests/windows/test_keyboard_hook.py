"""The lock view's low-level keyboard hook (WH_KEYBOARD_LL) on Windows CPython under Wine,
with keys typed on the X display as a customer would (xdotool through Wine's X11 driver).

Issue 10 §2: the hook ran on the Tk thread, and Windows silently removes a hook whose
thread answers later than LowLevelHooksTimeout. It now has a thread and message loop of its
own, and re-installs itself every few seconds; a removal is found and reported.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gameops.agent.control.keyboard import VK_ESCAPE, VK_LWIN, VK_TAB, WM_SYSKEYDOWN
from gameops.agent.overlay import LOCK_BACKGROUND
from tests.agent.screen import VirtualDisplay
from tests.support.waiting import eventually
from tests.windows.wine import PROBES, Wine, WineProcess, wait_for_colour, windows_path

# The first test of a run also creates the Wine prefix (up to 3 minutes on a busy machine).
pytestmark = pytest.mark.timeout(300)


LOCK_POINT = (512, 150)
VK_A, VK_LMENU, VK_LCONTROL = 0x41, 0xA4, 0xA2
WM_KEYDOWN, WM_KEYUP = 0x0100, 0x0101


@pytest.fixture
async def overlay(wine: Wine, windows_display: VirtualDisplay) -> AsyncIterator[WineProcess]:
    process = wine.spawn(windows_path(PROBES / "keyboard_hook.py"))
    yield process
    print(process.output())
    if process.returncode is None:
        await process.send("exit")
        try:
            await process.wait(15)
        except subprocess.TimeoutExpired:
            await process.kill()


async def status(process: WineProcess) -> dict[str, Any]:
    def statuses() -> list[dict[str, Any]]:
        return [line for line in process.json_lines() if "hook" in line]

    before = len(statuses())
    await process.send("status")
    lines = await eventually(lambda: _now(statuses()), lambda lines: len(lines) > before, 15)
    answer: dict[str, Any] = lines[-1]
    return answer


async def _now(value: Any) -> Any:
    return value


async def type_keys(display: VirtualDisplay, *keys: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "xdotool", "mousemove", str(LOCK_POINT[0]), str(LOCK_POINT[1]), "click", "1",
        "key", "--delay", "50", *keys, env={**os.environ, "DISPLAY": display.name},
    )  # fmt: skip
    assert await process.wait() == 0


async def test_the_hook_runs_on_its_own_thread_and_swallows_the_escape_keys(
    overlay: WineProcess, windows_display: VirtualDisplay
) -> None:
    await wait_for_colour(windows_display, LOCK_POINT, LOCK_BACKGROUND, "wine-lock-view")
    first = await eventually(lambda: status(overlay), lambda s: s["hook"] is not None, 30)
    assert first["hook_thread"] != first["window_thread"]  # not Tk's thread
    assert first["locked"] is True

    await type_keys(windows_display, "a", "super", "alt+Tab", "ctrl+Escape")
    # Six keys, each down and up. A, Alt and Ctrl pass; the Windows key (down and up), Tab
    # while Alt is down and Escape while Ctrl is down go no further. (Whether Tab's and
    # Escape's key-ups come before or after Alt's and Ctrl's is up to xdotool.)
    seen = await eventually(lambda: status(overlay), lambda s: s["seen"] >= 12, 15)
    downs = (WM_KEYDOWN, WM_SYSKEYDOWN)
    swallowed = {(vk, w) for vk, w, result in seen["keys"] if result == 1 and w in downs}
    assert swallowed == {(VK_LWIN, WM_KEYDOWN), (VK_TAB, WM_SYSKEYDOWN), (VK_ESCAPE, WM_KEYDOWN)}
    passed = {vk for vk, w, result in seen["keys"] if result == 0 and w in downs}
    assert passed == {VK_A, VK_LMENU, VK_LCONTROL}
    assert [r for vk, _, r in seen["keys"] if vk == VK_LWIN] == [1, 1]


async def test_a_removed_hook_is_reported_and_installed_again(
    overlay: WineProcess, windows_display: VirtualDisplay
) -> None:
    """Windows gives no notice when it drops a hook; the periodic check finds it (its
    UnhookWindowsHookEx fails), reports it and the fresh hook swallows keys again."""
    await wait_for_colour(windows_display, LOCK_POINT, LOCK_BACKGROUND, "wine-lock-view-hook")
    before = await eventually(lambda: status(overlay), lambda s: s["reinstalls"] >= 1, 30)
    assert before["removals"] == 0 and before["reports"] == []

    await overlay.send("remove")  # what Windows does to a hook past LowLevelHooksTimeout
    after = await eventually(lambda: status(overlay), lambda s: s["removals"] >= 1, 15)
    assert after["reports"] == [
        {
            "op": "tamper",
            "kind": "keyboard_hook_removed",
            "detail": "Windows removed the lock view's keyboard hook (it did not answer in time)",
            "count": 1,
        }
    ]
    await type_keys(windows_display, "super")
    swallowed = await eventually(lambda: status(overlay), lambda s: s["seen"] >= 2, 15)
    assert swallowed["swallowed"] == 2  # the Windows key, down and up
