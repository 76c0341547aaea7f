"""Windows backend over :class:`Win32Api`.

Which part calls what: the user-session part (overlay) locks the workstation and reads
idle time, as both only work inside the user's desktop session; the service part logs the
user off with ``WTSLogoffSession`` (``ExitWindowsEx`` when it runs in the user's session).
"""

from __future__ import annotations

import threading

from ..logs import get_logger
from . import win32
from .base import PowerAction
from .win32 import Win32Api

log = get_logger(__name__)

AWAKE_FLAGS = win32.ES_CONTINUOUS | win32.ES_SYSTEM_REQUIRED | win32.ES_DISPLAY_REQUIRED
NOTIFY_FLAGS = (
    win32.MB_OK
    | win32.MB_ICONINFORMATION
    | win32.MB_SYSTEMMODAL
    | win32.MB_SETFOREGROUND
    | win32.MB_TOPMOST
)
TICK_MASK = 0xFFFFFFFF  # GetTickCount wraps after 49.7 days
NOTIFY_SECONDS = 30  # a service's notice closes itself after this long
# A staff restart or shutdown: planned maintenance, with this long to see the notice.
POWER_REASON = (
    win32.SHTDN_REASON_MAJOR_OTHER
    | win32.SHTDN_REASON_MINOR_MAINTENANCE
    | win32.SHTDN_REASON_FLAG_PLANNED
)
POWER_NOTICE_SECONDS = 10


class WindowsControl:
    name = "windows"

    def __init__(self, api: Win32Api, *, in_service: bool = False) -> None:
        self.api = api
        self.in_service = in_service
        self.last_notification: threading.Thread | None = None

    def lock_screen(self) -> None:
        if not self.api.LockWorkStation():
            log.warning("windows_lock_failed", hint="LockWorkStation needs the user's desktop")

    def log_off(self) -> None:
        if self.in_service:
            session_id = self.api.WTSGetActiveConsoleSessionId()
            ok = self.api.WTSLogoffSession(win32.WTS_CURRENT_SERVER_HANDLE, session_id, False)
        else:
            reason = win32.SHTDN_REASON_MAJOR_OTHER | win32.SHTDN_REASON_FLAG_PLANNED
            ok = self.api.ExitWindowsEx(win32.EWX_LOGOFF | win32.EWX_FORCEIFHUNG, reason)
        if not ok:
            log.error("windows_logoff_failed", in_service=self.in_service)

    def keep_awake(self, enabled: bool) -> None:
        # ES_CONTINUOUS holds only while the calling thread lives: the runtime makes every
        # control call from one long-lived worker thread for that reason.
        self.api.SetThreadExecutionState(AWAKE_FLAGS if enabled else win32.ES_CONTINUOUS)

    def idle_seconds(self) -> float:
        idle_ms = (self.api.GetTickCount() - self.api.GetLastInputInfo()) & TICK_MASK
        return idle_ms / 1000

    def notify(self, title: str, text: str) -> None:
        if self.in_service:
            # A service's own MessageBoxW would open on session 0's desktop, which nobody
            # sees, and block its thread for good: ask Windows to show it to the console's
            # user instead (WTSSendMessageW, without waiting for the answer).
            session_id = self.api.WTSGetActiveConsoleSessionId()
            if session_id == win32.NO_CONSOLE_SESSION:
                log.info("windows_notify_skipped", why="no user session on the console")
                return
            if not self.api.WTSSendMessageW(session_id, title, text, NOTIFY_FLAGS, NOTIFY_SECONDS):
                log.warning("windows_notify_failed", session_id=session_id)
            return
        # MessageBoxW blocks until the customer clicks OK: never on the caller's thread.
        thread = threading.Thread(
            target=self.api.MessageBoxW, args=(0, text, title, NOTIFY_FLAGS), daemon=True
        )
        thread.start()
        self.last_notification = thread

    def power(self, action: PowerAction) -> bool:
        # Runs from the service: LocalSystem holds SeShutdownPrivilege, but disabled, and
        # InitiateSystemShutdownExW needs it enabled. Forced: a hung game must not keep the
        # PC up. Not yet run on real Windows (see docs/agent.md).
        error = self.api.enable_privilege(win32.SE_SHUTDOWN_NAME)
        if error:  # the call below then fails too, and says so
            log.warning("windows_shutdown_privilege_not_enabled", error=error)
        notice = f"GameOps: {action} requested by staff"
        reboot = action == "restart"
        ok = self.api.InitiateSystemShutdownExW(
            notice, POWER_NOTICE_SECONDS, True, reboot, POWER_REASON
        )
        if not ok:
            log.error("windows_power_failed", action=action)
        return ok
