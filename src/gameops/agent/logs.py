"""The agent's structured logs, on the standard library's logging alone.

Every other GameOps process logs through structlog (``gameops.logging``); importing it costs
the agent 2.5 MB of its 30 MB budget (docs/benchmarks.md), so the agent has this small
equivalent. Call sites read the same, ``log.info("agent_connected", url=url)``; the output
is the same console line or JSON object; and the fields travel as the record's ``extra``,
so a structlog-configured process (the fleet simulator, the demo) renders them as its own.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

# Attributes every LogRecord has; anything else on a record is a field of the event.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class Logger:
    """``log.info("event", key=value)`` onto a standard-library logger."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def _log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            extra = {_safe_key(key): value for key, value in fields.items()}
            self._logger.log(level, event, extra=extra, stacklevel=3)


def get_logger(name: str) -> Logger:
    return Logger(name)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The event's fields on ``record``: what was passed as keywords."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES}


class EventFormatter(logging.Formatter):
    """``2026-11-23T10:00:00Z [info     ] event key=value`` or one JSON object a line."""

    def __init__(self, fmt: Literal["console", "json"]) -> None:
        super().__init__()
        self.json = fmt == "json"

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        timestamp = created.replace("+00:00", "Z")
        fields = fields_of(record)
        level = record.levelname.lower()
        if self.json:
            entry = {"event": record.getMessage(), **fields, "level": level}
            entry |= {"logger": record.name, "timestamp": timestamp}
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            return json.dumps(entry, default=str)
        pairs = " ".join(f"{key}={value!r}" for key, value in fields.items())
        line = f"{timestamp} [{level:<9}] {record.getMessage()} {pairs}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.rstrip()


def configure(
    level: str = "INFO", fmt: Literal["console", "json"] = "console", file: Path | None = None
) -> None:
    """Log to stderr, and to ``file`` when given, at ``level``."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    root = logging.getLogger()
    root.handlers = handlers
    for handler in handlers:
        handler.setFormatter(EventFormatter(fmt))
    root.setLevel(level.upper())


def _safe_key(key: str) -> str:
    # A field named like a LogRecord attribute ("name", "msg", ...) would make logging raise.
    return f"{key}_" if key in _RECORD_ATTRIBUTES else key
