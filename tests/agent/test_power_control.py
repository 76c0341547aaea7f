"""Restart and shut down (staff commands) in each system-control backend."""

from __future__ import annotations

import ctypes
from typing import Any

from gameops.agent.control import SimulatedControl, win32
from gameops.agent.control.linux import LinuxControl
from gameops.agent.control.windows import POWER_NOTICE_SECONDS, WindowsControl
from tests.agent.test_control import FakeRunner, FakeWin32


def test_windows_restarts_and_shuts_down_with_a_planned_maintenance_reason() -> None:
    api = FakeWin32(InitiateSystemShutdownExW=True)
    control = WindowsControl(api, in_service=True)
    assert control.power("restart") and control.power("shutdown")
    reason = 0x80000001  # SHTDN_REASON_FLAG_PLANNED | MAJOR_OTHER | MINOR_MAINTENANCE
    assert reason == win32.SHTDN_REASON_FLAG_PLANNED | win32.SHTDN_REASON_MINOR_MAINTENANCE
    privilege = ("enable_privilege", ("SeShutdownPrivilege",))  # disabled for LocalSystem
    assert api.calls == [
        privilege,
        ("InitiateSystemShutdownExW",
         ("GameOps: restart requested by staff", POWER_NOTICE_SECONDS, True, True, reason)),
        privilege,
        ("InitiateSystemShutdownExW",
         ("GameOps: shutdown requested by staff", POWER_NOTICE_SECONDS, True, False, reason)),
    ]  # fmt: skip


def test_windows_refused_power_call_is_reported() -> None:
    assert not WindowsControl(FakeWin32(InitiateSystemShutdownExW=False)).power("restart")


def test_without_the_privilege_the_shutdown_is_still_asked_for_and_its_refusal_reported() -> None:
    api = FakeWin32(enable_privilege=win32.ERROR_NOT_ALL_ASSIGNED, InitiateSystemShutdownExW=False)
    assert not WindowsControl(api, in_service=True).power("shutdown")
    assert [name for name, _ in api.calls] == ["enable_privilege", "InitiateSystemShutdownExW"]


class FakeTokenCalls:
    """The Win32 functions :meth:`CtypesWin32.enable_privilege` calls, as Windows answers
    them: the structures passed by reference are read and filled in as the real ones are."""

    PROCESS, TOKEN, LUID = 0xFFFF_FFFF_FFFF_FFFF, 0x1C4, 19  # LUID of SeShutdownPrivilege

    def __init__(self, held: bool = True, lookup_ok: bool = True) -> None:
        self.held = held
        self.lookup_ok = lookup_ok
        self.error = 0
        self.calls: list[str] = []
        self.adjusted: list[tuple[int, int, int, int]] = []
        self.closed: list[int] = []

    def GetCurrentProcess(self) -> int:  # noqa: N802
        return self.PROCESS

    def OpenProcessToken(self, process: int, access: int, token: Any) -> bool:  # noqa: N802
        assert process == self.PROCESS
        assert access == win32.TOKEN_ADJUST_PRIVILEGES | win32.TOKEN_QUERY
        token._obj.value = self.TOKEN
        return True

    def LookupPrivilegeValueW(self, system: None, name: str, luid: Any) -> bool:  # noqa: N802
        assert (system, name) == (None, "SeShutdownPrivilege")
        if not self.lookup_ok:
            self.error = 1313  # ERROR_NO_SUCH_PRIVILEGE
            return False
        luid._obj.LowPart = self.LUID
        return True

    def AdjustTokenPrivileges(  # noqa: N802
        self, token: Any, disable_all: bool, state: Any, size: int, old: None, old_size: None
    ) -> bool:
        assert token.value == self.TOKEN and not disable_all and (old, old_size) == (None, None)
        wanted = state._obj
        assert ctypes.sizeof(wanted) == 16  # TOKEN_PRIVILEGES with one entry
        self.adjusted.append(
            (wanted.PrivilegeCount, wanted.Luid.LowPart, wanted.Luid.HighPart, wanted.Attributes)
        )
        self.error = 0 if self.held else win32.ERROR_NOT_ALL_ASSIGNED
        return True  # TRUE even when the token lacks it

    def CloseHandle(self, handle: Any) -> bool:  # noqa: N802
        self.closed.append(handle.value)
        return True

    def last_error(self) -> int:
        return self.error


def test_the_privilege_is_enabled_in_the_process_token_and_the_token_closed() -> None:
    calls = FakeTokenCalls()
    assert win32.CtypesWin32(calls).enable_privilege(win32.SE_SHUTDOWN_NAME) == 0  # type: ignore[arg-type]
    assert calls.adjusted == [(1, FakeTokenCalls.LUID, 0, win32.SE_PRIVILEGE_ENABLED)]
    assert calls.closed == [FakeTokenCalls.TOKEN]


def test_a_token_without_the_privilege_is_told_by_the_last_error_not_the_answer() -> None:
    calls = FakeTokenCalls(held=False)
    answer = win32.CtypesWin32(calls).enable_privilege(win32.SE_SHUTDOWN_NAME)  # type: ignore[arg-type]
    assert answer == win32.ERROR_NOT_ALL_ASSIGNED
    assert calls.closed == [FakeTokenCalls.TOKEN]


def test_an_unknown_privilege_is_the_lookups_error() -> None:
    calls = FakeTokenCalls(lookup_ok=False)
    assert win32.CtypesWin32(calls).enable_privilege(win32.SE_SHUTDOWN_NAME) == 1313  # type: ignore[arg-type]
    assert calls.adjusted == [] and calls.closed == [FakeTokenCalls.TOKEN]


def test_linux_reboots_and_powers_off_with_systemctl() -> None:
    runner = FakeRunner(fail={"systemctl poweroff"})
    control = LinuxControl(run=runner)
    assert control.power("restart") is True
    assert control.power("shutdown") is False  # not allowed: reported, not raised
    assert runner.commands == [["systemctl", "reboot"], ["systemctl", "poweroff"]]


def test_simulated_records_power_actions() -> None:
    control = SimulatedControl()
    assert control.power("shutdown")
    assert control.actions == [("power", "shutdown")]
