"""Every Win32 call the Windows backend makes, made for real: the agent's ctypes layer on
the Windows build of CPython under Wine (Wine 8.0). Where Wine only stubs a function, the
test's name says so and asserts what Wine answers; docs/agent.md has the table."""

from __future__ import annotations

from typing import Any

import pytest

from gameops.agent.control import win32
from gameops.agent.control.windows import AWAKE_FLAGS
from tests.windows.wine import Wine

ERROR_CALL_NOT_IMPLEMENTED = 120


@pytest.fixture(scope="module")
def calls(wine: Wine) -> dict[str, Any]:
    return wine.probe("calls", timeout=120)


def test_every_function_of_the_prototype_table_loads_with_its_restype(
    calls: dict[str, Any],
) -> None:
    assert set(calls["prototypes"]) == set(win32.PROTOTYPES)
    # ctypes' default would be c_long ("int") for each; the table sets the documented one.
    assert calls["restypes"]["WTSGetActiveConsoleSessionId"] == "c_ulong"  # DWORD on Windows
    assert calls["restypes"]["SetWindowsHookExW"] == "c_void_p"  # HHOOK, 64 bits
    assert calls["restypes"]["CallNextHookEx"] == "c_longlong"  # LRESULT, 64 bits
    assert calls["pointer_bits"] == 64


def test_lock_workstation_is_a_stub_on_wine_returning_false_not_implemented(
    calls: dict[str, Any],
) -> None:
    assert calls["LockWorkStation"] == [False, ERROR_CALL_NOT_IMPLEMENTED]


def test_wts_logoff_session_is_a_stub_on_wine_returning_false_not_implemented(
    calls: dict[str, Any],
) -> None:
    assert calls["WTSLogoffSession"] == [False, ERROR_CALL_NOT_IMPLEMENTED]


def test_the_console_session_id_is_wines_session_1(calls: dict[str, Any]) -> None:
    assert calls["WTSGetActiveConsoleSessionId"] == 1


def test_keep_awake_sets_the_execution_state_and_it_reads_back_unsigned(
    calls: dict[str, Any],
) -> None:
    after_keep_awake, after_release, awake = calls["SetThreadExecutionState"]
    # ES_CONTINUOUS is the top bit: a signed restype would turn these negative.
    assert after_keep_awake == awake == AWAKE_FLAGS == 0x80000003
    assert after_release == win32.ES_CONTINUOUS


def test_idle_time_from_get_last_input_info_and_get_tick_count(calls: dict[str, Any]) -> None:
    # Nobody has typed on the virtual display yet: Wine's last input time is 0, so the idle
    # time is the tick count, in seconds.
    assert calls["GetLastInputInfo"] == 0
    assert calls["GetTickCount"] > 0
    assert calls["idle_seconds"] == pytest.approx(calls["GetTickCount"] / 1000, abs=5)


def test_the_virtual_screen_metrics_are_the_whole_x_display(calls: dict[str, Any]) -> None:
    assert calls["virtual_screen"] == [0, 0, 1024, 768]
    assert calls["primary_screen"] == [1024, 768]
    assert calls["monitors"] == 1  # Xvfb offers one monitor to Wine


def test_the_overlay_starts_as_the_console_user_with_their_environment(
    calls: dict[str, Any],
) -> None:
    """WTSQueryUserToken, DuplicateTokenEx, CreateEnvironmentBlock, CreateProcessAsUserW,
    WaitForSingleObject, GetExitCodeProcess and CloseHandle, all real on Wine: the child
    exits with EXIT_WITH (6, from the service) plus 1 if the user's environment (the
    registry's HKCU\\Environment, read by CreateEnvironmentBlock) gave it PYTHONPATH."""
    assert calls["WTSQueryUserToken"] is True
    assert calls["DuplicateTokenEx"] is True
    assert {"PYTHONPATH", "USERNAME", "SystemRoot"} <= set(calls["environment_keys"])
    assert calls["child_exit_code"] == 7
    assert calls["child_pid"] > 0
    assert calls["CloseHandle"] is True


def test_terminate_process_ends_the_overlay_with_code_1(calls: dict[str, Any]) -> None:
    assert calls["TerminateProcess"] is True
    assert calls["terminated_exit_code"] == 1


def test_no_console_session_is_recognised_through_the_dword_restype(wine: Wine) -> None:
    """Issue 10 §2: with ctypes' default ``int`` restype 0xFFFFFFFF arrived as -1, the
    NO_CONSOLE_SESSION check never matched and the service asked for session -1's token."""
    answer = wine.probe("no_console_session")
    assert answer["session_id"] == 0xFFFFFFFF
    assert answer["launch"] == "NoUserSession: no user is logged on to the console"
