"""The user-session part without a screen: the Windows keyboard hook against a fake of its
Win32 layer, and how queued channel messages become renders, locks and hook state."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any

import pytest

from gameops.agent.channel import DesktopChannel
from gameops.agent.control import SimulatedControl
from gameops.agent.control.keyboard import (
    ERROR_INVALID_HOOK_HANDLE,
    HC_ACTION,
    LLKHF_ALTDOWN,
    VK_ESCAPE,
    VK_F4,
    VK_LWIN,
    VK_TAB,
    WH_KEYBOARD_LL,
    WM_SYSKEYDOWN,
    KeyboardBlocker,
    should_swallow,
)
from gameops.agent.desktop import DesktopPart, read_channel
from gameops.agent.overlay import format_remaining
from tests.agent.harness import wait_until

VK_A, VK_RETURN = 0x41, 0x0D


class FakeHookApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.key = (VK_A, 0)
        self.ctrl_down = False
        self.removed_by_windows: set[int] = set()
        self.next_hook = 99

    def SetWindowsHookExW(self, hook_id: int, proc: Any) -> int:  # noqa: N802
        self.calls.append(("SetWindowsHookExW", (hook_id, proc)))
        self.next_hook += 1
        return self.next_hook - 1

    def UnhookWindowsHookEx(self, hook: int) -> bool:  # noqa: N802
        self.calls.append(("UnhookWindowsHookEx", (hook,)))
        return hook not in self.removed_by_windows

    def CallNextHookEx(self, n_code: int, w_param: int, l_param: int) -> int:  # noqa: N802
        self.calls.append(("CallNextHookEx", (n_code, w_param, l_param)))
        return 0

    def GetAsyncKeyState(self, vk: int) -> int:  # noqa: N802
        return 0x8000 if self.ctrl_down else 0

    def read_key(self, l_param: int) -> tuple[int, int]:
        return self.key

    def last_error(self) -> int:
        return ERROR_INVALID_HOOK_HANDLE


@pytest.mark.parametrize(
    ("vk", "alt", "ctrl", "swallowed"),
    [
        (VK_LWIN, False, False, True),
        (VK_TAB, True, False, True),
        (VK_F4, True, False, True),
        (VK_ESCAPE, True, False, True),
        (VK_ESCAPE, False, True, True),  # Ctrl+Esc, and Ctrl+Shift+Esc (Task Manager)
        (VK_TAB, False, False, False),
        (VK_F4, False, False, False),
        (VK_A, True, False, False),
        (VK_RETURN, False, True, False),
    ],
)
def test_which_keys_are_swallowed(vk: int, alt: bool, ctrl: bool, swallowed: bool) -> None:
    assert should_swallow(vk, alt, ctrl) is swallowed


def test_the_hook_swallows_alt_tab_only_while_locked() -> None:
    api = FakeHookApi()
    blocker = KeyboardBlocker(api)
    blocker.install()
    assert api.calls == [("SetWindowsHookExW", (WH_KEYBOARD_LL, blocker.on_key))]
    api.key = (VK_TAB, LLKHF_ALTDOWN)

    blocker.locked = True
    assert blocker.on_key(HC_ACTION, 0x104, 1234) == 1
    assert api.calls[-1][0] == "SetWindowsHookExW"  # not passed on

    blocker.locked = False
    assert blocker.on_key(HC_ACTION, 0x104, 1234) == 0
    assert api.calls[-1:] == [("CallNextHookEx", (HC_ACTION, 0x104, 1234))]

    blocker.uninstall()
    assert api.calls[-1:] == [("UnhookWindowsHookEx", (99,))]
    assert blocker.swallowed == 1


def test_alt_is_also_read_from_the_syskeydown_message_as_wine_sends_it() -> None:
    api = FakeHookApi()
    blocker = KeyboardBlocker(api)
    blocker.locked = True
    api.key = (VK_TAB, 0)  # no LLKHF_ALTDOWN flag
    assert blocker.on_key(HC_ACTION, WM_SYSKEYDOWN, 1) == 1


def test_the_periodic_check_installs_a_fresh_hook_before_removing_the_old_one() -> None:
    api = FakeHookApi()
    removed: list[int] = []
    blocker = KeyboardBlocker(api, on_removed=removed.append)
    blocker.install()
    blocker.check()
    assert [name for name, _ in api.calls] == [
        "SetWindowsHookExW", "SetWindowsHookExW", "UnhookWindowsHookEx",
    ]  # fmt: skip
    assert api.calls[-1] == ("UnhookWindowsHookEx", (99,)) and blocker.hook == 100
    assert removed == [] and blocker.removals == 0

    api.removed_by_windows.add(100)  # LowLevelHooksTimeout: Windows dropped it, silently
    blocker.check()
    assert blocker.hook == 101 and blocker.removals == 1 and removed == [1]


def test_a_removed_hook_is_reported_to_the_service_as_tamper() -> None:
    api = FakeHookApi()
    blocker = KeyboardBlocker(api)
    part = DesktopPart("PC-01", SimulatedControl(), blocker)
    reported: list[dict[str, Any]] = []
    part.report = reported.append
    blocker.install()
    api.removed_by_windows.add(99)
    blocker.check()
    assert [(r["op"], r["kind"], r["count"]) for r in reported] == [
        ("tamper", "keyboard_hook_removed", 1)
    ]


async def test_the_channel_hands_the_overlays_tamper_reports_on() -> None:
    reports: list[tuple[str, str, int]] = []
    channel = DesktopChannel(lambda kind, detail, count: reports.append((kind, detail, count)))
    channel._receive(b'{"op": "tamper", "kind": "keyboard_hook_removed", "detail": "x", ')
    channel._receive(b'{"op": "tamper", "kind": "hook_removed", "detail": "x", "count": 2}')
    channel._receive(b'{"op": "tamper", "kind": "no spaces or $"}')
    channel._receive(b'{"op": "tamper", "kind": "overlay_note", "count": true}')
    assert reports == [("hook_removed", "x", 2), ("overlay_note", "", 1)]  # not the cut one


def test_ordinary_typing_passes_through_even_when_locked() -> None:
    api = FakeHookApi()
    blocker = KeyboardBlocker(api)
    blocker.locked = True
    assert blocker.on_key(HC_ACTION, 0x100, 1) == 0
    assert api.calls == [("CallNextHookEx", (HC_ACTION, 0x100, 1))]


class FakeRoot:
    def __init__(self) -> None:
        self.scheduled: list[Any] = []

    def after(self, delay_ms: int, *callback: Any) -> None:
        self.scheduled.append(callback)


class FakeOverlay:
    def __init__(self) -> None:
        self.rendered: list[dict[str, Any]] = []

    def render(self, view: dict[str, Any]) -> None:
        self.rendered.append(view)


def test_queued_messages_draw_the_newest_view_lock_and_set_the_hook() -> None:
    control = SimulatedControl()
    blocker = KeyboardBlocker(FakeHookApi())
    part = DesktopPart("PC-01", control, blocker)
    root, overlay = FakeRoot(), FakeOverlay()
    part.inbox.put({"op": "view", "mode": "session", "remaining": 700})
    part.inbox.put({"op": "view", "mode": "locked"})
    part.inbox.put({"op": "lock"})
    part._drain(root, overlay)
    assert overlay.rendered == [{"op": "view", "mode": "locked"}]  # only the newest
    assert blocker.locked
    assert len(root.scheduled) == 1  # polls again
    for _ in range(100):
        if control.names():
            break
        time.sleep(0.01)
    assert control.names() == ["lock_screen"]

    part.inbox.put({"op": "view", "mode": "session", "remaining": 700})
    part._drain(root, overlay)
    assert not blocker.locked
    part.inbox.put({"op": "view", "mode": "grace", "remaining": 30})
    part._drain(root, overlay)
    assert not blocker.locked  # the grace: the customer's keys still reach their windows
    part.inbox.put({"op": "view", "mode": "no-such-mode"})
    part._drain(root, overlay)
    assert blocker.locked  # anything unknown fails closed


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "00:00"), (59, "00:59"), (600, "10:00"), (3725, "1:02:05")]
)
def test_time_left_format(seconds: int, shown: str) -> None:
    assert format_remaining(seconds) == shown


def test_screen_tests_skip_without_xvfb_but_fail_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.agent import screen

    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install xvfb"):
        screen.require_display_tools()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Xvfb"):
        screen.require_display_tools()


def test_an_orphaned_overlay_locks_then_exits_once_the_service_stays_gone() -> None:
    from gameops.agent.desktop import EXIT, LOCKED_VIEW, read_channel

    inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    # Port 9: nothing listens. The service that started us is dead.
    read_channel(9, "secret", inbox, service_alive=lambda: False, orphan_seconds=0.5)
    messages = [inbox.get_nowait() for _ in range(inbox.qsize())]
    assert messages[0] == LOCKED_VIEW
    assert messages[-1] == EXIT


def test_exit_closes_the_overlay_window() -> None:
    from gameops.agent.desktop import EXIT

    destroyed: list[bool] = []
    root = FakeRoot()
    root.destroy = lambda: destroyed.append(True)  # type: ignore[attr-defined]
    part = DesktopPart("PC-01", SimulatedControl())
    part.inbox.put(EXIT)
    part._drain(root, FakeOverlay())
    assert destroyed == [True]
    assert root.scheduled == []  # stops polling


async def test_the_user_session_part_reports_input_idle_time_to_the_service() -> None:
    channel = DesktopChannel()
    port = await channel.start()
    control = SimulatedControl()
    control.idle = 42.4
    part = DesktopPart("PC-01", control)
    reader = threading.Thread(
        target=read_channel,
        args=(port, channel.secret, part.inbox),
        kwargs={
            "service_alive": lambda: False,
            "orphan_seconds": 0,
            "on_connection": part._connected,
        },
        daemon=True,
    )
    reader.start()
    await wait_until(lambda: channel.connected)
    await asyncio.to_thread(part._sample_idle)  # as the overlay's poll does every 10 s
    await wait_until(lambda: channel.idle_seconds == 42.0)
    assert part.idle_seconds == 42.4
    await channel.close()
    await asyncio.to_thread(reader.join, 5)  # cut off, the service "gone": it gives up
    assert not reader.is_alive()
