"""The local state file: the current session, so a crash, kill or reboot loses no paid time
and grants none. Written atomically (temp file, fsync, rename) so a power cut leaves either
the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from .effects import SavedSession
from .logs import get_logger

log = get_logger(__name__)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SavedSession | None:
        """The saved session, or ``None`` if there is none or the file is unreadable."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return _from_json(raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            # A damaged file must not stop the agent: it starts locked and asks the server.
            log.warning("state_file_unreadable", path=str(self.path), error=str(err))
            return None

    @property
    def marker(self) -> Path:
        return self.path.with_name(self.path.name + ".running")

    def mark_running(self) -> float | None:
        """Note that the agent runs; returns when the last run started if it never stopped
        cleanly (killed, crashed, power cut), else ``None``."""
        try:
            previous: float | None = self.marker.stat().st_mtime
        except FileNotFoundError:
            previous = None
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()
        return previous

    def mark_stopped(self) -> None:
        self.marker.unlink(missing_ok=True)

    def save(self, saved: SavedSession | None) -> None:
        if saved is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.path, json.dumps(_to_json(saved), indent=1))


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory this way.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_json(saved: SavedSession) -> dict[str, Any]:
    raw = asdict(saved)
    raw["session_id"] = str(saved.session_id)
    raw["scheduled_end_at"] = saved.scheduled_end_at.isoformat()
    raw["saved_at"] = saved.saved_at.isoformat()
    return raw


def _from_json(raw: dict[str, Any]) -> SavedSession:
    phase = raw["phase"]
    if phase not in ("active", "ending"):
        raise ValueError(f"unknown phase {phase!r}")
    logoff_in = raw.get("logoff_in_seconds")
    return SavedSession(
        session_id=UUID(raw["session_id"]),
        scheduled_end_at=_aware(raw["scheduled_end_at"]),
        skew_seconds=float(raw["skew_seconds"]),
        remaining_seconds=float(raw["remaining_seconds"]),
        saved_at=_aware(raw["saved_at"]),
        phase=phase,
        logoff_in_seconds=None if logoff_in is None else float(logoff_in),
    )


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment
