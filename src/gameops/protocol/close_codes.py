"""WebSocket close codes the server uses on agent and dashboard connections."""

import re
from enum import IntEnum

# A TRY_AGAIN_LATER close says when, in its reason: "...; retry in 4.2 s".
_RETRY_IN = re.compile(r"retry in (\d+(?:\.\d+)?) s")


class CloseCode(IntEnum):
    NORMAL = 1000
    # The server is restarting or shutting down: reconnect, possibly to another replica.
    SERVICE_RESTART = 1012
    # Too busy (handshakes queued up) or rate limited (failed authentications): reconnect
    # after the delay the reason gives (see retry_reason / retry_after).
    TRY_AGAIN_LATER = 1013
    HEARTBEAT_TIMEOUT = 4000
    AUTH_FAILED = 4401
    FORBIDDEN = 4403
    UNKNOWN_STATION = 4404
    AUTH_TIMEOUT = 4408
    REPLACED = 4409

    @property
    def is_fatal_for_agent(self) -> bool:
        """Codes after which reconnecting with the same credentials cannot help soon."""
        return self in {CloseCode.AUTH_FAILED, CloseCode.UNKNOWN_STATION, CloseCode.REPLACED}


def retry_reason(why: str, seconds: float) -> str:
    """A TRY_AGAIN_LATER close reason that tells the agent when to come back."""
    return f"{why}; retry in {seconds:.1f} s"


def retry_after(reason: str | None) -> float | None:
    """The delay a TRY_AGAIN_LATER close reason asks for, if it gives one."""
    found = _RETRY_IN.search(reason or "")
    return float(found.group(1)) if found else None
