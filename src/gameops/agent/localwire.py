"""The line format of the local channel between the agent's two parts: one JSON object a
line. Kept apart from :mod:`.channel` so the user-session part imports nothing heavy."""

from __future__ import annotations

import json
from typing import Any

SECRET_ENV = "GAMEOPS_DESKTOP_SECRET"
# Views in which the desktop is the customer's: a session, or the grace period after it to
# save work. Every other mode shows the lock view.
USABLE_MODES = ("session", "grace")


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"
