"""Restart and shut down (staff commands) in each system-control backend."""

from __future__ import annotations

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
    assert api.calls == [
        ("InitiateSystemShutdownExW",
         ("GameOps: restart requested by staff", POWER_NOTICE_SECONDS, True, True, reason)),
        ("InitiateSystemShutdownExW",
         ("GameOps: shutdown requested by staff", POWER_NOTICE_SECONDS, True, False, reason)),
    ]  # fmt: skip


def test_windows_refused_power_call_is_reported() -> None:
    assert not WindowsControl(FakeWin32(InitiateSystemShutdownExW=False)).power("restart")


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
