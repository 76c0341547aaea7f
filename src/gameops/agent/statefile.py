"""The local state file: the current session and any tamper lock, so a crash, kill or reboot
loses no paid time and grants none. Written atomically (temp file, fsync, rename) so a power
cut leaves either the old file or the new one, never half of one.

The file is signed (HMAC-SHA256) with a key derived from the station's agent token, which
only the service can read (the config and the data folder are the service's alone). A file
edited by hand, or written without the key, is refused: the agent starts locked, reports
it, and waits for the server to say what the station should be doing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from .effects import SavedSession, SavedTamperLock
from .logs import get_logger

log = get_logger(__name__)

FORMAT = 2  # 1: unsigned (v0.1)
KEY_CONTEXT = b"gameops agent state file v1"


def state_key(agent_token: str) -> bytes:
    """The station's state-file key: derived from its agent token (issued at provisioning,
    kept where only the service reads it), so nothing more needs provisioning or storing."""
    return hmac.new(agent_token.encode(), KEY_CONTEXT, hashlib.sha256).digest()


@dataclass(frozen=True)
class LoadedState:
    session: SavedSession | None = None
    tamper_lock: SavedTamperLock | None = None
    problem: str | None = None  # set: a file was there but unsigned, altered or unreadable


class StateFile:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        self._session: SavedSession | None = None
        self._tamper_lock: SavedTamperLock | None = None

    def load(self) -> LoadedState:
        """What was saved; nothing (with ``problem`` set) when the file cannot be trusted."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadedState()
        except OSError as err:
            return self._refused(f"unreadable: {err}")
        try:
            state = self._verified(json.loads(text))
            loaded = LoadedState(_session(state.get("session")), _tamper(state.get("tamper_lock")))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            # A bad file must not stop the agent: it starts locked and asks the server.
            return self._refused(str(err))
        self._session, self._tamper_lock = loaded.session, loaded.tamper_lock
        return loaded

    def _verified(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError("not signed (written by an older agent or by hand)")
        state = raw["state"]
        if not hmac.compare_digest(str(raw.get("hmac_sha256", "")), self._mac(state)):
            raise ValueError("signature does not match: the file was altered or forged")
        if not isinstance(state, dict):
            raise ValueError("no state in the file")
        return state

    def _refused(self, why: str) -> LoadedState:
        log.error("state_file_refused", path=str(self.path), error=why)
        return LoadedState(problem=f"state file {self.path.name} refused: {why}")

    def _mac(self, state: Any) -> str:
        canonical = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, canonical, hashlib.sha256).hexdigest()

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

    @property
    def unsent_note(self) -> Path:
        return self.path.with_name(self.path.name + ".unsent-stop")

    def keep_unsent_stop(self, detail: str) -> None:
        """A stop in paid time the server never heard of (it was unreachable): told next run."""
        self.unsent_note.write_text(detail[:1000], encoding="utf-8")

    def take_unsent_stop(self) -> str | None:
        try:
            detail = self.unsent_note.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        self.unsent_note.unlink(missing_ok=True)
        return detail

    def save(self, saved: SavedSession | None) -> None:
        self._session = saved
        self._write()

    def save_tamper_lock(self, lock: SavedTamperLock | None) -> None:
        self._tamper_lock = lock
        self._write()

    def _write(self) -> None:
        if self._session is None and self._tamper_lock is None:
            self.path.unlink(missing_ok=True)
            return
        state = {
            "session": _to_json(self._session) if self._session else None,
            "tamper_lock": _tamper_json(self._tamper_lock) if self._tamper_lock else None,
        }
        signed = {"format": FORMAT, "state": state, "hmac_sha256": self._mac(state)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.path, json.dumps(signed, indent=1))


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


def _session(raw: dict[str, Any] | None) -> SavedSession | None:
    if raw is None:
        return None
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
        steady_at=_optional_float(raw.get("steady_at")),
        boot_id=None if raw.get("boot_id") is None else str(raw["boot_id"]),
    )


def _tamper_json(lock: SavedTamperLock) -> dict[str, Any]:
    return {**asdict(lock), "locked_at": lock.locked_at.isoformat()}


def _tamper(raw: dict[str, Any] | None) -> SavedTamperLock | None:
    if raw is None:
        return None
    return SavedTamperLock(
        reason=str(raw["reason"]),
        locked_at=_aware(raw["locked_at"]),
        logoff_in_seconds=_optional_float(raw.get("logoff_in_seconds")),
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment
