"""The lock view covers every monitor (issue 10 §2): on Windows Tk knows only the primary
monitor, so the overlay is given the virtual screen (GetSystemMetrics SM_*VIRTUALSCREEN,
exercised on Windows CPython in tests/windows). Here a real Tk window on Xvfb is given a
virtual screen that reaches left of the primary monitor, as a second monitor there does."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator

import pytest

from gameops.agent.overlay import LOCK_BACKGROUND, Overlay, lock_geometry
from tests.agent.screen import VirtualDisplay, save


@pytest.fixture
def root(display: VirtualDisplay) -> Iterator[tk.Tk]:
    window = tk.Tk(screenName=display.name, className="gameops-test")
    yield window
    window.destroy()


def test_lock_geometry_keeps_a_negative_origin_left_of_the_primary_monitor() -> None:
    assert lock_geometry((-1920, 0, 3840, 1080)) == "3840x1080+-1920+0"
    assert lock_geometry((0, -200, 1024, 968)) == "1024x968+0+-200"


def test_the_lock_view_spans_the_virtual_screen_it_is_given(
    root: tk.Tk, display: VirtualDisplay
) -> None:
    overlay = Overlay(root, "PC-TWO-MONITORS", screen=(-1024, 0, 2048, 768))
    overlay.render({"mode": "locked", "message": "two monitors"})
    root.update()
    lock = overlay.lock
    assert (lock.winfo_rootx(), lock.winfo_rooty()) == (-1024, 0)
    assert (lock.winfo_width(), lock.winfo_height()) == (2048, 768)
    shot = display.screenshot()
    save(shot, "lock-view-virtual-screen")
    assert shot.pixel(5, 5) == shot.pixel(1018, 760) == LOCK_BACKGROUND


def test_without_a_virtual_screen_it_is_tks_screen(root: tk.Tk) -> None:
    overlay = Overlay(root, "PC-ONE")
    root.update()
    assert overlay.screen == (0, 0, root.winfo_screenwidth(), root.winfo_screenheight())
