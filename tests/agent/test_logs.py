"""The agent's stdlib-only structured logs: console lines and JSON objects with the fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameops.agent import logs


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.mark.usefixtures("root_logging")
def test_json_lines_carry_event_fields_level_and_utc_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("INFO", "json")
    log = logs.get_logger("gameops.agent.test")
    log.debug("not_shown")
    log.warning("agent_connect_failed", url="wss://venue", name="PC-01")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["event"] == "agent_connect_failed"
    assert entry["url"] == "wss://venue"
    assert entry["name_"] == "PC-01"  # "name" is a LogRecord attribute: kept, renamed
    assert entry["level"] == "warning"
    assert entry["logger"] == "gameops.agent.test"
    assert entry["timestamp"].endswith("Z")


@pytest.mark.usefixtures("root_logging")
def test_console_lines_read_like_the_servers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log_file = tmp_path / "agent.log"
    logs.configure("DEBUG", "console", log_file)
    logs.get_logger("x").info("agent_lock", reason="expired")
    line = capsys.readouterr().err.strip()
    assert line.endswith("[info     ] agent_lock reason='expired'")
    assert log_file.read_text().strip() == line  # the file gets the same line
