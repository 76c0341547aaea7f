"""Structured logging for every GameOps process (server, agent, simulators)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Literal, TextIO

import structlog

# A token in a URL's query string (``/ws/dashboard?token=...``, ``?refresh_token=``): uvicorn
# logs request lines with their query, and a log file must not hand out logins.
_QUERY_TOKEN = re.compile(r"([?&](?:access_|refresh_)?token=)[^&\s\"'\\#]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_query_tokens(_: object, __: str, rendered: str) -> str:
    """The last step of every log line: whatever logged it (structlog, uvicorn's access and
    error logs, a traceback), query-string tokens come out as ``[redacted]``."""
    return _QUERY_TOKEN.sub(rf"\1{REDACTED}", rendered)


def configure_logging(
    level: str = "INFO",
    fmt: Literal["console", "json"] = "console",
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the standard library's logging through one renderer."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        # Plain tracebacks: rich's, with local variables, took seconds to render a large
        # request (blocking the event loop) and would print secrets held in locals.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)  # None: stderr
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # The PC agent logs with the standard library, its fields as the record's extra.
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
                redact_query_tokens,  # type: ignore[list-item]  # str in, str out
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log duplicates what we log; keep its errors.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
