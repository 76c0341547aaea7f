"""WebSocket close codes the server uses on agent and dashboard connections."""

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    # The server is restarting or shutting down: reconnect, possibly to another replica.
    SERVICE_RESTART = 1012
    # Rate limited (too many failed authentications): reconnect later, with backoff.
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
