"""Every Win32 call the Windows backend makes, made for real: the agent's ctypes layer on
the Windows build of CPython under Wine (Wine 8.0). Where Wine only stubs a function, the
test's name says so and asserts what Wine answers; docs/agent.md has the table."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from gameops.agent.control import win32
from gameops.agent.control.windows import AWAKE_FLAGS
from tests.agent.screen import VirtualDisplay, save
from tests.support.waiting import eventually
from tests.windows.wine import PROBES, Wine, windows_path

# The first test of a run also creates the Wine prefix (up to 3 minutes on a busy machine).
pytestmark = pytest.mark.timeout(300)


ERROR_CALL_NOT_IMPLEMENTED = 120
ERROR_NO_SUCH_PRIVILEGE = 1313
IDOK = 1


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


def test_the_shutdown_privilege_is_enabled_in_the_process_token_for_real(
    calls: dict[str, Any],
) -> None:
    """OpenProcessToken, LookupPrivilegeValueW and AdjustTokenPrivileges are Wine's real
    ones (wineserver keeps the token): SeShutdownPrivilege is held and enabled (0); a
    privilege that does not exist is ERROR_NO_SUCH_PRIVILEGE. Whether a LocalSystem service
    holds it disabled, as Microsoft documents, only real Windows can show."""
    assert calls["enable_privilege"] == [0, ERROR_NO_SUCH_PRIVILEGE]


def test_wts_logoff_session_is_a_stub_on_wine_returning_false_not_implemented(
    calls: dict[str, Any],
) -> None:
    assert calls["WTSLogoffSession"] == [False, ERROR_CALL_NOT_IMPLEMENTED]


def test_wts_send_message_is_a_stub_on_wine_returning_false_not_implemented(
    calls: dict[str, Any],
) -> None:
    """How a service's notice reaches the console user (MessageBoxW would open on session
    0's desktop); Wine does not implement it."""
    assert calls["WTSSendMessageW"] == [False, ERROR_CALL_NOT_IMPLEMENTED]


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
    # Both in milliseconds since Wine's boot; the last input is 0 until someone types or
    # moves the mouse on the display (the keyboard tests may have, before this one).
    tick, last_input = calls["GetTickCount"], calls["GetLastInputInfo"]
    assert 0 <= last_input <= tick
    assert calls["idle_seconds"] == pytest.approx((tick - last_input) / 1000, abs=5)


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


def test_the_lock_view_is_placed_over_the_virtual_screen(wine: Wine) -> None:
    """Wine on Xvfb offers one monitor (Xinerama and RandR monitors on Xvfb were tried), so
    the virtual screen equals the primary one here; tests/agent/test_lock_view_screen.py
    places the view over a virtual screen reaching left of the primary monitor."""
    answer = wine.probe("lock_view")
    assert answer["virtual_screen"] == [0, 0, 1024, 768]
    assert answer["lock"] == answer["virtual_screen"]


async def test_notify_shows_a_real_message_box_that_the_customer_closes(
    wine: Wine, windows_display: VirtualDisplay
) -> None:
    box = wine.spawn(windows_path(PROBES / "message_box.py"))
    try:
        await eventually(lambda: _now(box.json_lines()), lambda lines: len(lines) >= 1, 60)
        assert box.json_lines()[0]["shown"] is True  # off the caller's thread, still open
        window = await eventually(lambda: visible_window(windows_display, "GameOps Wine"), bool, 60)
        await asyncio.to_thread(lambda: save(windows_display.screenshot(), "wine-message-box"))
        # No window manager to activate it: a click on the box gives it the focus, and
        # Enter presses its default button, OK.
        shape = await xdotool(windows_display, "getwindowgeometry", "--shell", window)
        geometry = dict(line.split("=", 1) for line in shape.split())
        x = int(geometry["X"]) + int(geometry["WIDTH"]) // 2
        y = int(geometry["Y"]) + 10
        await xdotool(windows_display, "mousemove", str(x), str(y), "click", "1", "key", "Return")
        closed = await eventually(lambda: _now(box.json_lines()), lambda lines: len(lines) >= 2, 30)
        assert closed[-1] == {"closed": True, "answer": [IDOK]}
    finally:
        await box.kill()


def test_exit_windows_ex_is_real_on_wine_and_initiate_system_shutdown_a_stub(
    wine: Wine,
) -> None:
    """Wine implements ExitWindowsEx by running ``wineboot --end-session``: it answers
    TRUE. InitiateSystemShutdownExW (staff restart/shutdown) is a stub on Wine: TRUE, and
    nothing shuts down. Last in this module: the log-off ends the prefix's other programs."""
    answer = wine.probe("exit_windows")
    assert answer == {"InitiateSystemShutdownExW": [True, 0], "ExitWindowsEx": True}


async def _now(value: Any) -> Any:
    return value


async def xdotool(display: VirtualDisplay, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "xdotool", *args, env={**os.environ, "DISPLAY": display.name},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await process.communicate()
    return out.decode()


async def visible_window(display: VirtualDisplay, title: str) -> str:
    found = await xdotool(display, "search", "--onlyvisible", "--name", title)
    return found.split()[0] if found.split() else ""
