"""What the agent says before a clean stop: why it stops, who asked (where that can be
known), who was logged on, and how recently someone touched the PC.

Why: an installer or updater writes a note next to the state file before it stops the
service (``uninstall`` or ``update``, and optionally who runs it, one per line); a stop
during the operating system's shutdown is ``shutdown``; anything else is ``service_stop``.
The Windows service host passes ``shutdown`` itself (it is told so by the service manager).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import get_args

from gameops.protocol import StopReason

from .logs import get_logger

log = get_logger(__name__)

NOTE_SUFFIX = ".stop-reason"


def note_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + NOTE_SUFFIX)


def stop_reason(note: Path | None, asked: StopReason | None) -> tuple[StopReason, str | None]:
    """The reason for this stop and who asked, if known. The note is used once."""
    if note is not None and (noted := _read_note(note)) is not None:
        return noted
    if asked is not None:
        return asked, None
    return ("shutdown" if system_shutting_down() else "service_stop"), None


def _read_note(note: Path) -> tuple[StopReason, str | None] | None:
    try:
        lines = note.read_text(encoding="utf-8").splitlines()
        note.unlink()
    except OSError:
        return None
    reason = lines[0].strip() if lines else ""
    if reason not in get_args(StopReason):
        log.warning("stop_note_ignored", path=str(note), reason=reason[:64])
        return None
    by = lines[1].strip()[:128] if len(lines) > 1 and lines[1].strip() else None
    return reason, by  # type: ignore[return-value]  # checked against StopReason above


def system_shutting_down() -> bool:
    """Linux with systemd: the system is on its way down (``is-system-running``: stopping)."""
    systemctl = shutil.which("systemctl") if sys.platform == "linux" else None
    if systemctl is None:
        return False
    try:
        state = subprocess.run(
            [systemctl, "is-system-running"], capture_output=True, text=True, timeout=2
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return state == "stopping"


def logged_on_users() -> list[str]:
    """Accounts with a session on this PC (console, remote), as the OS lists them."""
    import psutil

    try:
        names = {user.name for user in psutil.users() if user.name}
    except (OSError, RuntimeError):
        return []
    return sorted(names)[:16]
