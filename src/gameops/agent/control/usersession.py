"""Starting the user-session part from a Windows service.

A service runs in session 0, which has no desktop the customer sees; the overlay must run
in the logged-on user's session. As LocalSystem, the service takes that user's token
(WTSQueryUserToken), makes a primary copy (DuplicateTokenEx), builds the user's
environment (CreateEnvironmentBlock) plus the channel secret, and starts the child on the
user's desktop (CreateProcessAsUserW on ``winsta0\\default``).

As in :mod:`.win32`, the calls go through a small fakeable layer named after the Win32
functions; the tests assert the sequence on Linux, and the Wine tier (``tests/windows/``)
runs the real calls on the Windows build of CPython.
"""

from __future__ import annotations

import asyncio
import ctypes
import subprocess
from collections.abc import Sequence
from ctypes import wintypes
from typing import Protocol

from ..supervisor import Child, NoUserSession
from . import win32
from .win32 import Win32Functions, functions

INFINITE = 0xFFFFFFFF
MAXIMUM_ALLOWED = 0x02000000
SECURITY_IDENTIFICATION = 1
TOKEN_PRIMARY = 1
CREATE_UNICODE_ENVIRONMENT = 0x00000400
CREATE_NO_WINDOW = 0x08000000
ERROR_NO_TOKEN = 1008
USER_DESKTOP = "winsta0\\default"
NO_CONSOLE_SESSION = win32.NO_CONSOLE_SESSION


class SessionApi(Protocol):
    def WTSGetActiveConsoleSessionId(self) -> int: ...  # noqa: N802

    def WTSQueryUserToken(self, session_id: int) -> int | None: ...  # noqa: N802

    def DuplicateTokenEx(self, token: int) -> int: ...  # noqa: N802

    def CreateEnvironmentBlock(self, token: int) -> dict[str, str]: ...  # noqa: N802

    def CreateProcessAsUserW(  # noqa: N802
        self, token: int, command_line: str, environment: dict[str, str], desktop: str
    ) -> tuple[int, int]: ...

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int: ...  # noqa: N802

    def GetExitCodeProcess(self, handle: int) -> int: ...  # noqa: N802

    def TerminateProcess(self, handle: int, exit_code: int) -> bool: ...  # noqa: N802

    def CloseHandle(self, handle: int) -> bool: ...  # noqa: N802


class UserSessionLauncher:
    """A supervisor launcher that starts the child on the console user's desktop."""

    def __init__(self, api: SessionApi) -> None:
        self.api = api

    async def __call__(self, command: Sequence[str], env: dict[str, str]) -> Child:
        return await asyncio.to_thread(self.launch, command, env)

    def launch(self, command: Sequence[str], env: dict[str, str]) -> UserSessionChild:
        api = self.api
        session_id = api.WTSGetActiveConsoleSessionId()
        user_token = None if session_id == NO_CONSOLE_SESSION else api.WTSQueryUserToken(session_id)
        if user_token is None:
            raise NoUserSession("no user is logged on to the console")
        try:
            primary = api.DuplicateTokenEx(user_token)
        finally:
            api.CloseHandle(user_token)
        try:
            environment = {**api.CreateEnvironmentBlock(primary), **env}
            command_line = subprocess.list2cmdline(list(command))
            handle, pid = api.CreateProcessAsUserW(primary, command_line, environment, USER_DESKTOP)
        finally:
            api.CloseHandle(primary)
        return UserSessionChild(api, handle, pid)


class UserSessionChild:
    """A process started by :class:`UserSessionLauncher`, seen through its handle."""

    def __init__(self, api: SessionApi, handle: int, pid: int) -> None:
        self.api = api
        self.handle = handle
        self.pid = pid
        self.returncode: int | None = None

    async def wait(self) -> int:
        if self.returncode is None:
            await asyncio.to_thread(self.api.WaitForSingleObject, self.handle, INFINITE)
            self.returncode = self.api.GetExitCodeProcess(self.handle)
            self.api.CloseHandle(self.handle)
        return self.returncode

    def terminate(self) -> None:
        if self.returncode is None:
            self.api.TerminateProcess(self.handle, 1)

    def kill(self) -> None:
        self.terminate()  # TerminateProcess is already the hard stop


class _StartupInfo(ctypes.Structure):
    _fields_ = [
        ("cb", wintypes.DWORD), ("lpReserved", wintypes.LPWSTR),
        ("lpDesktop", wintypes.LPWSTR), ("lpTitle", wintypes.LPWSTR),
        ("dwX", wintypes.DWORD), ("dwY", wintypes.DWORD), ("dwXSize", wintypes.DWORD),
        ("dwYSize", wintypes.DWORD), ("dwXCountChars", wintypes.DWORD),
        ("dwYCountChars", wintypes.DWORD), ("dwFillAttribute", wintypes.DWORD),
        ("dwFlags", wintypes.DWORD), ("wShowWindow", wintypes.WORD),
        ("cbReserved2", wintypes.WORD), ("lpReserved2", ctypes.c_void_p),
        ("hStdInput", wintypes.HANDLE), ("hStdOutput", wintypes.HANDLE),
        ("hStdError", wintypes.HANDLE),
    ]  # fmt: skip


class _ProcessInformation(ctypes.Structure):
    _fields_ = [
        ("hProcess", wintypes.HANDLE), ("hThread", wintypes.HANDLE),
        ("dwProcessId", wintypes.DWORD), ("dwThreadId", wintypes.DWORD),
    ]  # fmt: skip


class CtypesSessionApi:
    """The real calls, through :class:`~.win32.Win32Functions` (prototypes in one place)."""

    def __init__(self, win: Win32Functions | None = None) -> None:
        self.win = win or functions()

    def _fail(self, call: str) -> OSError:
        error = self.win.last_error()
        return OSError(error, f"{call} failed (Win32 error {error})")

    def WTSGetActiveConsoleSessionId(self) -> int:  # noqa: N802
        return int(self.win.WTSGetActiveConsoleSessionId())

    def WTSQueryUserToken(self, session_id: int) -> int | None:  # noqa: N802
        token = wintypes.HANDLE()
        if self.win.WTSQueryUserToken(session_id, ctypes.byref(token)):
            return int(token.value or 0)
        if self.win.last_error() == ERROR_NO_TOKEN:
            return None
        raise self._fail("WTSQueryUserToken")

    def DuplicateTokenEx(self, token: int) -> int:  # noqa: N802
        primary = wintypes.HANDLE()
        if not self.win.DuplicateTokenEx(
            token, MAXIMUM_ALLOWED, None, SECURITY_IDENTIFICATION, TOKEN_PRIMARY,
            ctypes.byref(primary),
        ):  # fmt: skip
            raise self._fail("DuplicateTokenEx")
        return int(primary.value or 0)

    def CreateEnvironmentBlock(self, token: int) -> dict[str, str]:  # noqa: N802
        block = ctypes.c_void_p()
        if not self.win.CreateEnvironmentBlock(ctypes.byref(block), token, False):
            raise self._fail("CreateEnvironmentBlock")
        try:
            return _parse_environment_block(block.value or 0)
        finally:
            self.win.DestroyEnvironmentBlock(block)

    def CreateProcessAsUserW(  # noqa: N802
        self, token: int, command_line: str, environment: dict[str, str], desktop: str
    ) -> tuple[int, int]:
        startup = _StartupInfo(cb=ctypes.sizeof(_StartupInfo), lpDesktop=desktop)
        info = _ProcessInformation()
        block = "".join(f"{key}={value}\0" for key, value in environment.items()) + "\0"
        if not self.win.CreateProcessAsUserW(
            token, None, ctypes.create_unicode_buffer(command_line),
            None, None, False, CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW,
            ctypes.create_unicode_buffer(block), None,
            ctypes.byref(startup), ctypes.byref(info),
        ):  # fmt: skip
            raise self._fail("CreateProcessAsUserW")
        self.CloseHandle(int(info.hThread or 0))
        return int(info.hProcess or 0), int(info.dwProcessId)

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int:  # noqa: N802
        return int(self.win.WaitForSingleObject(handle, milliseconds))

    def GetExitCodeProcess(self, handle: int) -> int:  # noqa: N802
        code = wintypes.DWORD()
        if not self.win.GetExitCodeProcess(handle, ctypes.byref(code)):
            raise self._fail("GetExitCodeProcess")
        return int(code.value)

    def TerminateProcess(self, handle: int, exit_code: int) -> bool:  # noqa: N802
        return bool(self.win.TerminateProcess(handle, exit_code))

    def CloseHandle(self, handle: int) -> bool:  # noqa: N802
        return bool(self.win.CloseHandle(handle))


def _parse_environment_block(address: int) -> dict[str, str]:
    """A Windows environment block: ``KEY=value\\0`` strings, ending with an empty one."""
    environment: dict[str, str] = {}
    while True:
        entry = ctypes.wstring_at(address)
        if not entry:
            return environment
        key, _, value = entry.partition("=")
        if key:  # entries like "=C:=C:\\" describe drive letters; keep them out
            environment[key] = value
        address += (len(entry) + 1) * ctypes.sizeof(ctypes.c_wchar)
