"""What a station's agent token looks like. The server issues them; the agent checks the
one it was configured with before connecting, so a placeholder left in, or a token cut
short when it was copied, is reported at start-up instead of being retried forever."""

from __future__ import annotations

import re
import secrets

AGENT_TOKEN_PREFIX = "gat_"
_RANDOM_BYTES = 32  # token_urlsafe(32): 43 characters of A-Z a-z 0-9 - _
AGENT_TOKEN_SHAPE = f"{AGENT_TOKEN_PREFIX} followed by 43 letters, digits, - or _"
_WELL_FORMED = re.compile(re.escape(AGENT_TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")


def new_agent_token() -> str:
    """A random token, shown once by the server; only its hash is stored."""
    return AGENT_TOKEN_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def is_well_formed_agent_token(token: str) -> bool:
    return _WELL_FORMED.fullmatch(token) is not None
