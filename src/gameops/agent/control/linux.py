"""Linux desktop backend: logind (loginctl) for lock and log-off, systemd-inhibit to keep
the PC awake, xprintidle for idle time, notify-send for notifications."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

from ..logs import get_logger
from .base import PowerAction

log = get_logger(__name__)

Runner = Callable[[Sequence[str]], bool]
Spawner = Callable[[Sequence[str]], "subprocess.Popen[bytes] | None"]


def run_command(argv: Sequence[str]) -> bool:
    """Run a short command; log and return False when it fails or does not exist."""
    try:
        result = subprocess.run(list(argv), capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("control_command_failed", argv=list(argv), error=str(err))
        return False
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        log.warning("control_command_failed", argv=list(argv), stderr=stderr[:200])
    return result.returncode == 0


def spawn_command(argv: Sequence[str]) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as err:
        log.warning("control_command_failed", argv=list(argv), error=str(err))
        return None


class LinuxControl:
    name = "linux"

    def __init__(self, run: Runner = run_command, spawn: Spawner = spawn_command) -> None:
        self._run = run
        self._spawn = spawn
        self._inhibitor: subprocess.Popen[bytes] | None = None
        self._session = os.environ.get("XDG_SESSION_ID", "")
        # False once neither logind nor a screensaver could lock: the overlay's lock view is
        # then the lock, and holds the keyboard and pointer itself (``DesktopPart``).
        self.system_lock_available: bool | None = None

    def lock_screen(self) -> None:
        # logind asks the desktop's locker; xdg-screensaver covers desktops without logind.
        locked = self._run(["loginctl", "lock-session", *self._session_arg()]) or self._run(
            ["xdg-screensaver", "lock"]
        )
        if not locked and self.system_lock_available is not False:
            log.error(
                "system_lock_unavailable",
                tried="loginctl lock-session, xdg-screensaver lock",
                fallback="the overlay's lock view holds the keyboard and pointer",
            )
        self.system_lock_available = locked

    def log_off(self) -> None:
        if self._session:
            self._run(["loginctl", "terminate-session", self._session])
        else:
            self._run(["loginctl", "terminate-user", os.environ.get("USER", "")])

    def keep_awake(self, enabled: bool) -> None:
        if enabled and self._inhibitor is None:
            self._inhibitor = self._spawn(
                ["systemd-inhibit", "--what=idle:sleep", "--who=gameops-agent",
                 "--why=paid session running", "sleep", "infinity"]
            )  # fmt: skip
        elif not enabled and self._inhibitor is not None:
            self._inhibitor.terminate()
            self._inhibitor = None

    def idle_seconds(self) -> float | None:
        if shutil.which("xprintidle") is None:
            return None
        try:
            output = subprocess.run(["xprintidle"], capture_output=True, timeout=5, check=True)
            return int(output.stdout.strip()) / 1000
        except (OSError, ValueError, subprocess.SubprocessError):
            return None

    def notify(self, title: str, text: str) -> None:
        self._run(["notify-send", "--app-name=GameOps", title, text])

    def power(self, action: PowerAction) -> bool:
        # Needs the right to (a root service, or polkit's rule for the agent's user).
        return self._run(["systemctl", "reboot" if action == "restart" else "poweroff"])

    def _session_arg(self) -> list[str]:
        return [self._session] if self._session else []
