"""The one table of Win32 prototypes (control/win32.py), on Linux: real C function pointers
stand in for the DLLs' functions, handed out as ctypes.windll does (default ``int``
restype). The Windows tier (tests/windows) makes the same calls on Windows CPython."""

from __future__ import annotations

import ast
import ctypes
from pathlib import Path
from typing import Any

import pytest

from gameops.agent.control import keyboard, usersession, win32
from gameops.agent.control.usersession import CtypesSessionApi, UserSessionLauncher
from gameops.agent.supervisor import NoUserSession

CONTROL = Path(win32.__file__).parent


class FakeDll:
    """Functions as native pointers, looked up with ctypes' default prototype."""

    def __init__(self, **results: int) -> None:
        self._callbacks: list[Any] = []
        for name, value in results.items():
            native = ctypes.CFUNCTYPE(ctypes.c_uint32)(lambda value=value: value)
            self._callbacks.append(native)
            address = ctypes.cast(native, ctypes.c_void_p).value
            setattr(self, name, ctypes.CFUNCTYPE(ctypes.c_int)(address))


def test_no_console_session_arrives_as_the_documented_dword() -> None:
    kernel32 = FakeDll(WTSGetActiveConsoleSessionId=0xFFFFFFFF)
    api = CtypesSessionApi(win32.Win32Functions(lambda name: kernel32))
    assert api.WTSGetActiveConsoleSessionId() == usersession.NO_CONSOLE_SESSION
    with pytest.raises(NoUserSession):
        UserSessionLauncher(api).launch(["overlay"], {})


def test_a_function_missing_from_the_table_is_refused() -> None:
    functions = win32.Win32Functions(lambda name: FakeDll(GetForegroundWindow=1))
    with pytest.raises(AttributeError, match=r"not in win32\.PROTOTYPES"):
        functions.GetForegroundWindow()


def test_ctypes_calls_go_only_through_the_table() -> None:
    """No module of GameOps but win32.py opens a DLL itself (windll, WinDLL, oledll): the
    only way to a Win32 function is the table's loader."""
    package = CONTROL.parents[1]  # src/gameops
    opened = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = [
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("windll", "WinDLL", "oledll")
        ]
        if found:
            opened[path.relative_to(package).as_posix()] = found
    assert opened == {"agent/control/win32.py": ["WinDLL"]}  # load_windll, the one loader


def test_every_method_named_after_a_win32_function_is_in_the_table() -> None:
    classes = [win32.CtypesWin32, usersession.CtypesSessionApi, keyboard.CtypesHookApi]
    for cls in classes:
        for name in vars(cls):
            if name[0].isupper():
                assert name in win32.PROTOTYPES, f"{cls.__name__}.{name}"
