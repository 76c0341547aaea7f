"""Swallowing the keys customers use to get past the lock view, on Windows, with a
low-level keyboard hook (WH_KEYBOARD_LL) installed by the user-session part.

Tk alone cannot stop Alt+Tab or the Windows key: the system handles them before any window
sees them. A low-level hook sees them first. Ctrl+Alt+Del cannot be hooked by design; that
is why the agent also asks Windows itself to lock (LockWorkStation).

The hook runs on its own thread with its own message loop (``GetMessageW``), never on Tk's:
Windows calls a low-level hook through the installing thread's message loop and silently
removes a hook that does not answer within ``LowLevelHooksTimeout`` (1 s by default since
Windows 7), which a busy Tk loop running Python can exceed. No notice is given; so every
``CHECK_SECONDS`` the thread installs a fresh hook and then removes the old one: if
Windows had removed the old one already, ``UnhookWindowsHookEx`` fails, and that is
reported (``on_removed``). Calls go through a fakeable layer named after the Win32 functions.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ..logs import get_logger
from .win32 import Win32Functions, functions

log = get_logger(__name__)

WH_KEYBOARD_LL = 13
HC_ACTION = 0
LLKHF_ALTDOWN = 0x20
VK_TAB, VK_ESCAPE, VK_F4 = 0x09, 0x1B, 0x73
VK_LWIN, VK_RWIN, VK_APPS = 0x5B, 0x5C, 0x5D
VK_CONTROL, VK_SHIFT = 0x11, 0x10
KEY_DOWN_BIT = 0x8000
WM_SYSKEYDOWN, WM_SYSKEYUP = 0x0104, 0x0105  # a key with Alt held (the hook's wParam)
WM_QUIT, WM_TIMER = 0x0012, 0x0113
ERROR_INVALID_HOOK_HANDLE = 1404
CHECK_SECONDS = 5.0

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

    def GetCurrentThreadId(self) -> int: ...  # noqa: N802

    def read_key(self, l_param: int) -> tuple[int, int]:
        """(vkCode, flags) of the KBDLLHOOKSTRUCT at ``l_param``."""
        ...

    def last_error(self) -> int: ...

    def run_message_loop(self, on_timer: Callable[[], None], period_ms: int) -> None:
        """Pump this thread's messages (the hook is called from here), ``on_timer`` every
        ``period_ms``, until :meth:`quit_message_loop`."""
        ...

    def quit_message_loop(self, thread_id: int) -> None: ...


class KeyboardBlocker:
    """Swallows :func:`should_swallow` keys while ``locked``; passes everything else on.

    :meth:`start` runs the hook on its own thread; ``on_removed(count)`` is called (on that
    thread) each time the periodic check finds that Windows had removed the hook.
    """

    def __init__(
        self,
        api: HookApi,
        on_removed: Callable[[int], None] = lambda count: None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.api = api
        self.on_removed = on_removed
        self.check_seconds = check_seconds
        self.locked = False
        self.swallowed = 0
        self.seen = 0  # key events the hook was called for
        self.removals = 0
        self.reinstalls = 0
        self._hook: int | None = None
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def hook(self) -> int | None:
        return self._hook

    def start(self) -> None:
        """Install the hook on a new thread with its own message loop; returns once it is in."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="keyboard-hook", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        thread, thread_id = self._thread, self._thread_id
        if thread is None or thread_id is None:
            return
        self.api.quit_message_loop(thread_id)
        thread.join(5)
        self._thread = None

    def _run(self) -> None:
        try:
            self._thread_id = self.api.GetCurrentThreadId()
            self.install()
        except BaseException as err:
            self._error = err
            return
        finally:
            self._ready.set()
        try:
            self.api.run_message_loop(self.check, max(1, round(self.check_seconds * 1000)))
        finally:
            self.uninstall()

    def install(self) -> None:
        if self._hook is None:
            self._hook = self.api.SetWindowsHookExW(WH_KEYBOARD_LL, self.on_key)

    def uninstall(self) -> None:
        if self._hook is not None:
            self.api.UnhookWindowsHookEx(self._hook)
            self._hook = None

    def check(self) -> None:
        """Install a fresh hook, then remove the old one (never a moment without a hook).
        Removing it fails if Windows already had: that is counted and reported."""
        old = self._hook
        try:
            self._hook = self.api.SetWindowsHookExW(WH_KEYBOARD_LL, self.on_key)
        except OSError as err:
            log.error("keyboard_hook_reinstall_failed", error=str(err))
            return
        self.reinstalls += 1
        if old is not None and not self.api.UnhookWindowsHookEx(old):
            self.removals += 1
            log.error(
                "keyboard_hook_removed",
                count=self.removals,
                win32_error=self.api.last_error(),
                reinstalled=True,
            )
            self.on_removed(self.removals)

    def on_key(self, n_code: int, w_param: int, l_param: int) -> int:
        if n_code == HC_ACTION:
            self.seen += 1
            if self.locked:
                vk, flags = self.api.read_key(l_param)
                # Windows sets LLKHF_ALTDOWN; Wine leaves it out and says WM_SYSKEYDOWN.
                alt = bool(flags & LLKHF_ALTDOWN) or w_param in (WM_SYSKEYDOWN, WM_SYSKEYUP)
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


class _Msg(ctypes.Structure):
    _fields_ = [
        ("hwnd", ctypes.c_void_p), ("message", ctypes.c_uint32), ("wParam", ctypes.c_size_t),
        ("lParam", ctypes.c_ssize_t), ("time", ctypes.c_uint32), ("pt_x", ctypes.c_int32),
        ("pt_y", ctypes.c_int32), ("lPrivate", ctypes.c_uint32),
    ]  # fmt: skip


class CtypesHookApi:
    """The real calls, through :class:`~.win32.Win32Functions` (prototypes in one place)."""

    def __init__(self, win: Win32Functions | None = None) -> None:
        self.win = win or functions()
        self._keep_alive: list[Any] = []  # the C callbacks must outlive their hooks

    def SetWindowsHookExW(self, hook_id: int, proc: HookProc) -> int:  # noqa: N802
        factory = ctypes.WINFUNCTYPE  # type: ignore[attr-defined,unused-ignore]
        prototype = factory(ctypes.c_ssize_t, ctypes.c_int, ctypes.c_size_t, ctypes.c_ssize_t)
        callback = prototype(proc)
        module = self.win.GetModuleHandleW(None)
        hook = self.win.SetWindowsHookExW(hook_id, callback, module, 0)
        if not hook:
            error = self.win.last_error()
            raise OSError(error, f"SetWindowsHookExW failed (Win32 error {error})")
        self._keep_alive = [*self._keep_alive[-1:], callback]  # the old hook's, and this
        return int(hook)

    def UnhookWindowsHookEx(self, hook: int) -> bool:  # noqa: N802
        return bool(self.win.UnhookWindowsHookEx(hook))

    def CallNextHookEx(self, n_code: int, w_param: int, l_param: int) -> int:  # noqa: N802
        return int(self.win.CallNextHookEx(None, n_code, w_param, l_param))

    def GetAsyncKeyState(self, vk: int) -> int:  # noqa: N802
        return int(self.win.GetAsyncKeyState(vk)) & 0xFFFF

    def GetCurrentThreadId(self) -> int:  # noqa: N802
        return int(self.win.GetCurrentThreadId())

    def read_key(self, l_param: int) -> tuple[int, int]:
        key = _KeyboardHookStruct.from_address(l_param)
        return int(key.vkCode), int(key.flags)

    def last_error(self) -> int:
        return self.win.last_error()

    def run_message_loop(self, on_timer: Callable[[], None], period_ms: int) -> None:
        win = self.win
        timer = win.SetTimer(None, 0, period_ms, None)
        message = _Msg()
        try:
            # GetMessageW: > 0 a message, 0 WM_QUIT, -1 an error. The hook is called inside it.
            while (got := win.GetMessageW(ctypes.byref(message), None, 0, 0)) > 0:
                if message.message == WM_TIMER and message.hwnd is None:
                    on_timer()
                    continue
                win.TranslateMessage(ctypes.byref(message))
                win.DispatchMessageW(ctypes.byref(message))
            if got < 0:
                raise OSError(win.last_error(), "GetMessageW failed")
        finally:
            win.KillTimer(None, timer)

    def quit_message_loop(self, thread_id: int) -> None:
        self.win.PostThreadMessageW(thread_id, WM_QUIT, 0, 0)
