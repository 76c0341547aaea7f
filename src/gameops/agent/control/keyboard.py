"""Swallowing the keys customers use to get past the lock view, on Windows, with a
low-level keyboard hook (WH_KEYBOARD_LL) installed by the user-session part.

Tk alone cannot stop Alt+Tab or the Windows key: the system handles them before any window
sees them. A low-level hook sees them first. Ctrl+Alt+Del cannot be hooked by design; that
is why the agent also asks Windows itself to lock (LockWorkStation).

The hook runs on the thread that installed it and needs that thread to pump messages: the
Tk main loop does. Calls go through a fakeable layer named after the Win32 functions.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, Protocol

WH_KEYBOARD_LL = 13
HC_ACTION = 0
LLKHF_ALTDOWN = 0x20
VK_TAB, VK_ESCAPE, VK_F4 = 0x09, 0x1B, 0x73
VK_LWIN, VK_RWIN, VK_APPS = 0x5B, 0x5C, 0x5D
VK_CONTROL, VK_SHIFT = 0x11, 0x10
KEY_DOWN_BIT = 0x8000

HookProc = Callable[[int, int, int], int]


def should_swallow(vk: int, alt: bool, ctrl: bool) -> bool:
    """Keys that would leave or cover the lock view: Windows keys, Alt+Tab, Alt+F4,
    Alt+Esc, Ctrl+Esc (Start menu) and Ctrl+Shift+Esc (Task Manager)."""
    if vk in (VK_LWIN, VK_RWIN, VK_APPS):
        return True
    if alt and vk in (VK_TAB, VK_F4, VK_ESCAPE):
        return True
    return ctrl and vk == VK_ESCAPE


class HookApi(Protocol):
    def SetWindowsHookExW(self, hook_id: int, proc: HookProc) -> int: ...  # noqa: N802

    def UnhookWindowsHookEx(self, hook: int) -> bool: ...  # noqa: N802

    def CallNextHookEx(self, n_code: int, w_param: int, l_param: int) -> int: ...  # noqa: N802

    def GetAsyncKeyState(self, vk: int) -> int: ...  # noqa: N802

    def read_key(self, l_param: int) -> tuple[int, int]:
        """(vkCode, flags) of the KBDLLHOOKSTRUCT at ``l_param``."""
        ...


class KeyboardBlocker:
    """Swallows :func:`should_swallow` keys while ``locked``; passes everything else on."""

    def __init__(self, api: HookApi) -> None:
        self.api = api
        self.locked = False
        self.swallowed = 0
        self._hook: int | None = None

    def install(self) -> None:
        if self._hook is None:
            self._hook = self.api.SetWindowsHookExW(WH_KEYBOARD_LL, self.on_key)

    def uninstall(self) -> None:
        if self._hook is not None:
            self.api.UnhookWindowsHookEx(self._hook)
            self._hook = None

    def on_key(self, n_code: int, w_param: int, l_param: int) -> int:
        if n_code == HC_ACTION and self.locked:
            vk, flags = self.api.read_key(l_param)
            alt = bool(flags & LLKHF_ALTDOWN)
            ctrl = bool(self.api.GetAsyncKeyState(VK_CONTROL) & KEY_DOWN_BIT)
            if should_swallow(vk, alt, ctrl):
                self.swallowed += 1
                return 1  # non-zero: the key goes no further
        return self.api.CallNextHookEx(n_code, w_param, l_param)


class _KeyboardHookStruct(ctypes.Structure):
    _fields_ = [
        ("vkCode", ctypes.c_uint32),
        ("scanCode", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("time", ctypes.c_uint32),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class CtypesHookApi:
    """The real calls. Untested on this project's CI (Linux)."""

    def __init__(self) -> None:
        self._keep_alive: Any = None  # the C callback must outlive the hook
        self._user32_dll: Any = None

    def _user32(self) -> Any:
        # Loaded once: CallNextHookEx runs on every key press.
        if self._user32_dll is None:
            self._user32_dll = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        return self._user32_dll

    def SetWindowsHookExW(self, hook_id: int, proc: HookProc) -> int:  # noqa: N802
        factory = ctypes.WINFUNCTYPE  # type: ignore[attr-defined,unused-ignore]
        prototype = factory(ctypes.c_ssize_t, ctypes.c_int, ctypes.c_size_t, ctypes.c_ssize_t)
        self._keep_alive = prototype(proc)
        user32 = self._user32()
        user32.SetWindowsHookExW.restype = ctypes.c_void_p
        kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
        kernel32.GetModuleHandleW.restype = ctypes.c_void_p
        module = kernel32.GetModuleHandleW(None)
        hook = user32.SetWindowsHookExW(hook_id, self._keep_alive, ctypes.c_void_p(module), 0)
        if not hook:
            raise OSError(ctypes.get_last_error(), "SetWindowsHookExW failed")  # type: ignore[attr-defined,unused-ignore]
        return int(hook)

    def UnhookWindowsHookEx(self, hook: int) -> bool:  # noqa: N802
        return bool(self._user32().UnhookWindowsHookEx(ctypes.c_void_p(hook)))

    def CallNextHookEx(self, n_code: int, w_param: int, l_param: int) -> int:  # noqa: N802
        user32 = self._user32()
        user32.CallNextHookEx.restype = ctypes.c_ssize_t
        user32.CallNextHookEx.argtypes = [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_ssize_t,
        ]  # fmt: skip
        return int(user32.CallNextHookEx(None, n_code, w_param, l_param))

    def GetAsyncKeyState(self, vk: int) -> int:  # noqa: N802
        return int(self._user32().GetAsyncKeyState(vk)) & 0xFFFF

    def read_key(self, l_param: int) -> tuple[int, int]:
        key = _KeyboardHookStruct.from_address(l_param)
        return int(key.vkCode), int(key.flags)
