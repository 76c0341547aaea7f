"""System-control backends: the Windows one against a fake of the ctypes layer that records
every Win32 call, the Linux one against a fake command runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gameops.agent.control import SimulatedControl, select_control, win32
from gameops.agent.control.linux import LinuxControl
from gameops.agent.control.windows import WindowsControl
from tests.agent.harness import captured_events


class FakeWin32:
    """Stands in for :class:`CtypesWin32`: records (function, args) and returns canned values."""

    def __init__(self, **returns: Any) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.returns = {"LockWorkStation": True, "WTSLogoffSession": True,
                        "ExitWindowsEx": True, "WTSGetActiveConsoleSessionId": 3,
                        "SetThreadExecutionState": 1, "GetTickCount": 100_000,
                        "GetLastInputInfo": 40_000, "MessageBoxW": 1,
                        "WTSSendMessageW": True, "enable_privilege": 0, **returns}  # fmt: skip

    def __getattr__(self, function: str) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append((function, args))
            return self.returns[function]

        return call


def test_windows_lock_calls_lock_workstation() -> None:
    api = FakeWin32()
    WindowsControl(api).lock_screen()
    assert api.calls == [("LockWorkStation", ())]


def test_windows_service_logs_off_the_console_session_with_wts() -> None:
    api = FakeWin32(WTSGetActiveConsoleSessionId=7)
    WindowsControl(api, in_service=True).log_off()
    assert api.calls == [
        ("WTSGetActiveConsoleSessionId", ()),
        ("WTSLogoffSession", (win32.WTS_CURRENT_SERVER_HANDLE, 7, False)),
    ]


def test_windows_user_session_logs_off_with_exit_windows_ex() -> None:
    api = FakeWin32()
    WindowsControl(api, in_service=False).log_off()
    assert api.calls == [("ExitWindowsEx", (win32.EWX_LOGOFF | win32.EWX_FORCEIFHUNG, 0x80000000))]


def test_windows_keep_awake_sets_and_clears_the_execution_state() -> None:
    api = FakeWin32()
    control = WindowsControl(api)
    control.keep_awake(True)
    control.keep_awake(False)
    assert api.calls == [
        ("SetThreadExecutionState", (0x80000003,)),  # CONTINUOUS | SYSTEM | DISPLAY
        ("SetThreadExecutionState", (0x80000000,)),  # CONTINUOUS alone: back to normal
    ]


def test_windows_idle_time_from_last_input_handles_tick_wraparound() -> None:
    assert WindowsControl(FakeWin32()).idle_seconds() == 60.0
    wrapped = FakeWin32(GetTickCount=1_000, GetLastInputInfo=0xFFFFFFFF - 999)
    assert WindowsControl(wrapped).idle_seconds() == 2.0


def test_windows_notify_shows_a_topmost_message_box_off_the_calling_thread() -> None:
    api = FakeWin32()
    control = WindowsControl(api)
    control.notify("GameOps", "5 minutes left")
    assert control.last_notification is not None
    control.last_notification.join(2)
    flags = win32.MB_ICONINFORMATION | win32.MB_SYSTEMMODAL | win32.MB_SETFOREGROUND
    assert api.calls == [
        ("MessageBoxW", (0, "5 minutes left", "GameOps", flags | win32.MB_TOPMOST))
    ]


def test_a_windows_service_notifies_the_console_user_with_wts_send_message() -> None:
    """A service's own MessageBoxW would show on session 0's desktop, seen by nobody."""
    api = FakeWin32()
    control = WindowsControl(api, in_service=True)
    control.notify("GameOps", "Time added!")
    flags = win32.MB_ICONINFORMATION | win32.MB_SYSTEMMODAL | win32.MB_SETFOREGROUND
    assert api.calls == [
        ("WTSGetActiveConsoleSessionId", ()),
        ("WTSSendMessageW", (3, "GameOps", "Time added!", flags | win32.MB_TOPMOST, 30)),
    ]
    assert control.last_notification is None  # no thread left blocked


def test_a_windows_service_without_a_console_user_shows_no_notice() -> None:
    api = FakeWin32(WTSGetActiveConsoleSessionId=win32.NO_CONSOLE_SESSION)
    WindowsControl(api, in_service=True).notify("GameOps", "Time added!")
    assert [name for name, _ in api.calls] == ["WTSGetActiveConsoleSessionId"]


def test_windows_failed_log_off_is_logged(caplog: pytest.LogCaptureFixture) -> None:

    api = FakeWin32(WTSLogoffSession=False)
    with captured_events(caplog) as logs:
        WindowsControl(api, in_service=True).log_off()
    assert [entry["event"] for entry in logs] == ["windows_logoff_failed"]


class FakeRunner:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.fail = fail or set()

    def __call__(self, argv: Sequence[str]) -> bool:
        self.commands.append(list(argv))
        return " ".join(argv[:2]) not in self.fail


def test_linux_lock_uses_logind_and_falls_back_to_xdg_screensaver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "c2")
    runner = FakeRunner(fail={"loginctl lock-session"})
    LinuxControl(run=runner).lock_screen()
    assert runner.commands == [["loginctl", "lock-session", "c2"], ["xdg-screensaver", "lock"]]


def test_linux_log_off_terminates_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_ID", "c2")
    runner = FakeRunner()
    control = LinuxControl(run=runner)
    control.log_off()
    control.notify("GameOps", "Time added!")
    assert runner.commands == [
        ["loginctl", "terminate-session", "c2"],
        ["notify-send", "--app-name=GameOps", "GameOps", "Time added!"],
    ]


def test_linux_keep_awake_holds_one_inhibitor_while_enabled() -> None:
    spawned: list[list[str]] = []

    class Process:
        terminated = False

        def terminate(self) -> None:
            self.terminated = True

    process = Process()

    def spawn(argv: Sequence[str]) -> Any:
        spawned.append(list(argv))
        return process

    control = LinuxControl(run=FakeRunner(), spawn=spawn)
    control.keep_awake(True)
    control.keep_awake(True)
    control.keep_awake(False)
    assert len(spawned) == 1
    assert spawned[0][:2] == ["systemd-inhibit", "--what=idle:sleep"]
    assert process.terminated


def test_simulated_backend_records_every_action() -> None:
    control = select_control("simulated")
    assert isinstance(control, SimulatedControl)
    control.lock_screen()
    control.keep_awake(True)
    control.log_off()
    assert control.names() == ["lock_screen", "keep_awake", "log_off"]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown system control backend"):
        select_control("amiga")
