"""The thin ctypes layer over the Win32 calls the Windows backend makes.

Method names mirror the Win32 functions so a fake of this class (used by the tests on
Linux) can assert exactly which calls are made with which arguments. Nothing here loads
until a method is called, so importing this module is safe on any OS.
"""

from __future__ import annotations

import ctypes
from typing import Any, Protocol

# Win32 constants used by the backend.
WTS_CURRENT_SERVER_HANDLE = 0
EWX_LOGOFF = 0x00000000
EWX_FORCEIFHUNG = 0x00000010
SHTDN_REASON_MAJOR_OTHER = 0x00000000
SHTDN_REASON_FLAG_PLANNED = 0x80000000
SHTDN_REASON_MINOR_MAINTENANCE = 0x00000001
ES_CONTINUOUS = 0x80000000
ES_SYSTEM_REQUIRED = 0x00000001
ES_DISPLAY_REQUIRED = 0x00000002
MB_OK = 0x00000000
MB_ICONINFORMATION = 0x00000040
MB_SYSTEMMODAL = 0x00001000
MB_SETFOREGROUND = 0x00010000
MB_TOPMOST = 0x00040000


class Win32Api(Protocol):
    def LockWorkStation(self) -> bool: ...  # noqa: N802

    def WTSGetActiveConsoleSessionId(self) -> int: ...  # noqa: N802

    def WTSLogoffSession(self, server: int, session_id: int, wait: bool) -> bool: ...  # noqa: N802

    def ExitWindowsEx(self, flags: int, reason: int) -> bool: ...  # noqa: N802

    def SetThreadExecutionState(self, flags: int) -> int: ...  # noqa: N802

    def GetLastInputInfo(self) -> int: ...  # noqa: N802

    def GetTickCount(self) -> int: ...  # noqa: N802

    def MessageBoxW(self, hwnd: int, text: str, caption: str, flags: int) -> int: ...  # noqa: N802

    def InitiateSystemShutdownExW(  # noqa: N802
        self, message: str, timeout: int, force: bool, reboot: bool, reason: int
    ) -> bool: ...


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


class CtypesWin32:
    """The real calls, through ``ctypes.windll``. Untested on this project's CI (Linux)."""

    def _dll(self, name: str) -> Any:
        windll = getattr(ctypes, "windll")  # noqa: B009 - the attribute exists only on Windows
        return getattr(windll, name)

    def LockWorkStation(self) -> bool:  # noqa: N802
        return bool(self._dll("user32").LockWorkStation())

    def WTSGetActiveConsoleSessionId(self) -> int:  # noqa: N802
        return int(self._dll("kernel32").WTSGetActiveConsoleSessionId())

    def WTSLogoffSession(self, server: int, session_id: int, wait: bool) -> bool:  # noqa: N802
        return bool(self._dll("wtsapi32").WTSLogoffSession(server, session_id, wait))

    def ExitWindowsEx(self, flags: int, reason: int) -> bool:  # noqa: N802
        return bool(self._dll("user32").ExitWindowsEx(flags, reason))

    def SetThreadExecutionState(self, flags: int) -> int:  # noqa: N802
        kernel32 = self._dll("kernel32")
        kernel32.SetThreadExecutionState.restype = ctypes.c_uint
        return int(kernel32.SetThreadExecutionState(ctypes.c_uint(flags)))

    def GetLastInputInfo(self) -> int:  # noqa: N802
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo), dwTime=0)
        if not self._dll("user32").GetLastInputInfo(ctypes.byref(info)):
            return self.GetTickCount()
        return int(info.dwTime)

    def GetTickCount(self) -> int:  # noqa: N802
        return int(self._dll("kernel32").GetTickCount())

    def MessageBoxW(self, hwnd: int, text: str, caption: str, flags: int) -> int:  # noqa: N802
        return int(self._dll("user32").MessageBoxW(hwnd, text, caption, flags))

    def InitiateSystemShutdownExW(  # noqa: N802
        self, message: str, timeout: int, force: bool, reboot: bool, reason: int
    ) -> bool:
        advapi32 = self._dll("advapi32")
        return bool(
            advapi32.InitiateSystemShutdownExW(None, message, timeout, force, reboot, reason)
        )
