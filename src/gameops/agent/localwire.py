"""The line format of the local channel between the agent's two parts: one JSON object a
line. Kept apart from :mod:`.channel` so the user-session part imports nothing heavy."""

from __future__ import annotations

import json
from typing import Any

SECRET_ENV = "GAMEOPS_DESKTOP_SECRET"


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"
