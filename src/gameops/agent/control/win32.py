"""The thin ctypes layer over the Win32 calls the Windows backend makes, and the one table
of every Win32 function the agent calls with its documented prototype.

Method names mirror the Win32 functions so a fake of this class (used by the tests on
Linux) can assert exactly which calls are made with which arguments. Nothing here loads
until a method is called, so importing this module is safe on any OS.

Every ctypes call in the agent goes through :class:`Win32Functions`, which hands out only
the functions listed in :data:`PROTOTYPES` with their ``restype`` and ``argtypes`` set.
Without them ctypes assumes every result is a C ``int``: a DWORD of 0xFFFFFFFF (the
documented "no console session") arrives as -1, a HANDLE is cut to 32 bits. The Wine test
tier (``tests/windows/``) calls each of them on the real Windows build of CPython.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, Protocol

# Win32 constants used by the backend.
WTS_CURRENT_SERVER_HANDLE = 0
NO_CONSOLE_SESSION = 0xFFFFFFFF  # WTSGetActiveConsoleSessionId: no session attached
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
# GetSystemMetrics: the virtual screen is the rectangle around every monitor; its origin
# is negative when a monitor sits left of or above the primary one.
SM_CXSCREEN, SM_CYSCREEN = 0, 1
SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN = 76, 77
SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN = 78, 79
SM_CMONITORS = 80
# A restart or shutdown needs this privilege enabled in the caller's token; LocalSystem
# holds it, disabled (AdjustTokenPrivileges answers ERROR_NOT_ALL_ASSIGNED when not held).
SE_SHUTDOWN_NAME = "SeShutdownPrivilege"
TOKEN_ADJUST_PRIVILEGES = 0x0020
TOKEN_QUERY = 0x0008
SE_PRIVILEGE_ENABLED = 0x00000002
ERROR_NOT_ALL_ASSIGNED = 1300

# Win32 types by size, the same on every OS (ctypes.wintypes' DWORD is 64 bits on Linux,
# where the tests build fake functions with these prototypes).
BOOL = ctypes.c_int32
DWORD = ctypes.c_uint32
UINT = ctypes.c_uint32
INT = ctypes.c_int32
SHORT = ctypes.c_int16
HANDLE = ctypes.c_void_p  # also HWND, HHOOK, HMODULE
LPARAM = ctypes.c_ssize_t  # also LRESULT
WPARAM = ctypes.c_size_t
POINTER = ctypes.c_void_p  # a pointer argument, passed as byref(...) or an address
LPCWSTR = ctypes.c_wchar_p

# name: (DLL, restype, argtypes), as documented on learn.microsoft.com.
PROTOTYPES: dict[str, tuple[str, Any, tuple[Any, ...]]] = {
    # The service and user-session parts (windows.py)
    "LockWorkStation": ("user32", BOOL, ()),
    "ExitWindowsEx": ("user32", BOOL, (UINT, DWORD)),
    "GetLastInputInfo": ("user32", BOOL, (POINTER,)),
    "MessageBoxW": ("user32", INT, (HANDLE, LPCWSTR, LPCWSTR, UINT)),
    "GetSystemMetrics": ("user32", INT, (INT,)),
    "WTSGetActiveConsoleSessionId": ("kernel32", DWORD, ()),
    "SetThreadExecutionState": ("kernel32", DWORD, (DWORD,)),
    "GetTickCount": ("kernel32", DWORD, ()),
    "WTSLogoffSession": ("wtsapi32", BOOL, (HANDLE, DWORD, BOOL)),
    # server, session, title, its length in bytes, message, its length, style, timeout (s),
    # the answer, wait: a service's message box on a user's desktop
    "WTSSendMessageW": (
        "wtsapi32",
        BOOL,
        (HANDLE, DWORD, LPCWSTR, DWORD, LPCWSTR, DWORD, DWORD, DWORD, POINTER, BOOL),
    ),
    # machine, message, timeout, force apps closed, reboot, reason (staff restart/shutdown)
    "InitiateSystemShutdownExW": ("advapi32", BOOL, (LPCWSTR, LPCWSTR, DWORD, BOOL, BOOL, DWORD)),
    # Enabling SeShutdownPrivilege before InitiateSystemShutdownExW: the process token,
    # the privilege's LUID, and the change (token, disable all, new state, size, old, size)
    "GetCurrentProcess": ("kernel32", HANDLE, ()),
    "OpenProcessToken": ("advapi32", BOOL, (HANDLE, DWORD, POINTER)),
    "LookupPrivilegeValueW": ("advapi32", BOOL, (LPCWSTR, LPCWSTR, POINTER)),
    "AdjustTokenPrivileges": ("advapi32", BOOL, (HANDLE, BOOL, POINTER, DWORD, POINTER, POINTER)),
    # Starting the overlay in the user's session (usersession.py)
    "WTSQueryUserToken": ("wtsapi32", BOOL, (DWORD, POINTER)),
    "DuplicateTokenEx": ("advapi32", BOOL, (HANDLE, DWORD, POINTER, INT, INT, POINTER)),
    "CreateEnvironmentBlock": ("userenv", BOOL, (POINTER, HANDLE, BOOL)),
    "DestroyEnvironmentBlock": ("userenv", BOOL, (POINTER,)),
    "CreateProcessAsUserW": (
        "advapi32",
        BOOL,
        # token, application, command line, process and thread security, inherit handles,
        # creation flags, environment, current directory, STARTUPINFOW, PROCESS_INFORMATION
        (
            HANDLE,
            LPCWSTR,
            POINTER,
            POINTER,
            POINTER,
            BOOL,
            DWORD,
            POINTER,
            LPCWSTR,
            POINTER,
            POINTER,
        ),
    ),
    "WaitForSingleObject": ("kernel32", DWORD, (HANDLE, DWORD)),
    "GetExitCodeProcess": ("kernel32", BOOL, (HANDLE, POINTER)),
    "TerminateProcess": ("kernel32", BOOL, (HANDLE, UINT)),
    "CloseHandle": ("kernel32", BOOL, (HANDLE,)),
    # The low-level keyboard hook and its thread's message loop (keyboard.py)
    "SetWindowsHookExW": ("user32", HANDLE, (INT, POINTER, HANDLE, DWORD)),
    "UnhookWindowsHookEx": ("user32", BOOL, (HANDLE,)),
    "CallNextHookEx": ("user32", LPARAM, (HANDLE, INT, WPARAM, LPARAM)),
    "GetAsyncKeyState": ("user32", SHORT, (INT,)),
    "GetModuleHandleW": ("kernel32", HANDLE, (LPCWSTR,)),
    "GetCurrentThreadId": ("kernel32", DWORD, ()),
    "GetMessageW": ("user32", BOOL, (POINTER, HANDLE, UINT, UINT)),
    "TranslateMessage": ("user32", BOOL, (POINTER,)),
    "DispatchMessageW": ("user32", LPARAM, (POINTER,)),
    "PostThreadMessageW": ("user32", BOOL, (DWORD, UINT, WPARAM, LPARAM)),
    "SetTimer": ("user32", ctypes.c_size_t, (HANDLE, ctypes.c_size_t, UINT, POINTER)),
    "KillTimer": ("user32", BOOL, (HANDLE, ctypes.c_size_t)),
}

DllLoader = Callable[[str], Any]


def load_windll(name: str) -> Any:
    """The DLL as ``ctypes.WinDLL`` loads it, with the thread's last error kept for us."""
    return ctypes.WinDLL(name, use_last_error=True)  # type: ignore[attr-defined,unused-ignore]


class Win32Functions:
    """Each function of :data:`PROTOTYPES`, loaded once with its prototype set.

    ``functions.LockWorkStation()`` and so on; a name not in the table is an error, so no
    call reaches ctypes with its default ``int`` prototype. ``loader`` opens a DLL by name
    (tests pass DLL-like objects holding real C function pointers).
    """

    def __init__(self, loader: DllLoader = load_windll) -> None:
        self._loader = loader
        self._dlls: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            dll_name, restype, argtypes = PROTOTYPES[name]
        except KeyError:
            raise AttributeError(f"{name} is not in win32.PROTOTYPES") from None
        dll = self._dlls.get(dll_name)
        if dll is None:
            dll = self._dlls[dll_name] = self._loader(dll_name)
        function = getattr(dll, name)
        function.restype = restype
        function.argtypes = argtypes
        setattr(self, name, function)  # found as an attribute from now on
        return function

    @staticmethod
    def last_error() -> int:
        return int(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]


_shared: Win32Functions | None = None


def functions() -> Win32Functions:
    """The process's one :class:`Win32Functions` over the real DLLs."""
    global _shared
    if _shared is None:
        _shared = Win32Functions()
    return _shared


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

    def WTSSendMessageW(  # noqa: N802
        self, session_id: int, title: str, text: str, style: int, timeout: int
    ) -> bool: ...

    def enable_privilege(self, name: str) -> int:
        """Enable ``name`` in this process's token; 0, or the Win32 error."""


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


class _Luid(ctypes.Structure):
    _fields_ = [("LowPart", DWORD), ("HighPart", ctypes.c_int32)]


class _TokenPrivilege(ctypes.Structure):
    """TOKEN_PRIVILEGES with its one LUID_AND_ATTRIBUTES (16 bytes, no padding)."""

    _fields_ = [("PrivilegeCount", DWORD), ("Luid", _Luid), ("Attributes", DWORD)]


class CtypesWin32:
    """The real calls, through :class:`Win32Functions`."""

    def __init__(self, win: Win32Functions | None = None) -> None:
        self.win = win or functions()

    def LockWorkStation(self) -> bool:  # noqa: N802
        return bool(self.win.LockWorkStation())

    def WTSGetActiveConsoleSessionId(self) -> int:  # noqa: N802
        return int(self.win.WTSGetActiveConsoleSessionId())

    def WTSLogoffSession(self, server: int, session_id: int, wait: bool) -> bool:  # noqa: N802
        return bool(self.win.WTSLogoffSession(server or None, session_id, wait))

    def ExitWindowsEx(self, flags: int, reason: int) -> bool:  # noqa: N802
        return bool(self.win.ExitWindowsEx(flags, reason))

    def SetThreadExecutionState(self, flags: int) -> int:  # noqa: N802
        return int(self.win.SetThreadExecutionState(flags))

    def GetLastInputInfo(self) -> int:  # noqa: N802
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo), dwTime=0)
        if not self.win.GetLastInputInfo(ctypes.byref(info)):
            return self.GetTickCount()
        return int(info.dwTime)

    def GetTickCount(self) -> int:  # noqa: N802
        return int(self.win.GetTickCount())

    def MessageBoxW(self, hwnd: int, text: str, caption: str, flags: int) -> int:  # noqa: N802
        return int(self.win.MessageBoxW(hwnd or None, text, caption, flags))

    def InitiateSystemShutdownExW(  # noqa: N802
        self, message: str, timeout: int, force: bool, reboot: bool, reason: int
    ) -> bool:
        return bool(
            self.win.InitiateSystemShutdownExW(None, message, timeout, force, reboot, reason)
        )

    def WTSSendMessageW(  # noqa: N802
        self, session_id: int, title: str, text: str, style: int, timeout: int
    ) -> bool:
        answer = ctypes.c_uint32()
        # bWait FALSE: returns at once (the answer is IDASYNC); the box closes itself.
        sent = self.win.WTSSendMessageW(
            None, session_id, title, _utf16_bytes(title), text, _utf16_bytes(text),
            style, timeout, ctypes.byref(answer), False,
        )  # fmt: skip
        return bool(sent)

    def enable_privilege(self, name: str) -> int:
        """OpenProcessToken, LookupPrivilegeValueW, AdjustTokenPrivileges. It succeeds
        also when the token lacks the privilege, and says so only in the last error."""
        token = HANDLE()
        access = TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY
        if not self.win.OpenProcessToken(self.win.GetCurrentProcess(), access, ctypes.byref(token)):
            return self.win.last_error()
        try:
            wanted = _TokenPrivilege(PrivilegeCount=1, Attributes=SE_PRIVILEGE_ENABLED)
            if not self.win.LookupPrivilegeValueW(None, name, ctypes.byref(wanted.Luid)):
                return self.win.last_error()
            if not self.win.AdjustTokenPrivileges(
                token, False, ctypes.byref(wanted), 0, None, None
            ):
                return self.win.last_error()
            return self.win.last_error()  # 0, or ERROR_NOT_ALL_ASSIGNED
        finally:
            self.win.CloseHandle(token)


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le"))


def virtual_screen(win: Win32Functions | None = None) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the rectangle covering every monitor."""
    metrics = (win or functions()).GetSystemMetrics
    return (
        int(metrics(SM_XVIRTUALSCREEN)),
        int(metrics(SM_YVIRTUALSCREEN)),
        int(metrics(SM_CXVIRTUALSCREEN)),
        int(metrics(SM_CYVIRTUALSCREEN)),
    )
