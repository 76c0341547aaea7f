"""The agent wire protocol: every message the server and a PC agent exchange.

Each message travels as one JSON text frame, an envelope ``{"type", "id", "data"}``. The
payload classes below are the only definition of ``data`` for each ``type``; the server and
the agent both encode and decode through :func:`encode` and :func:`decode`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A frame that is not a valid message; ``detail`` says what is wrong with it."""

    def __init__(self, detail: str, message_id: UUID | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.message_id = message_id


class Payload(BaseModel):
    """Base of every message body. ``TYPE`` is the envelope's ``type``."""

    TYPE: ClassVar[str]
    model_config = ConfigDict(extra="ignore", frozen=True)


class SessionInfo(BaseModel):
    """A session as an agent needs it to count down."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    started_at: AwareDatetime
    scheduled_end_at: AwareDatetime
    duration_minutes: int = Field(ge=0)
    user_name: str | None = None


# --- agent -> server -------------------------------------------------------------------


class Auth(Payload):
    """First message of a client that could send neither a header nor a query token."""

    TYPE = "auth"
    token: str = Field(min_length=1, max_length=512)


class AgentHello(Payload):
    TYPE = "agent_hello"
    agent_version: str = Field(max_length=64)
    os: str = Field(max_length=128)
    specs: dict[str, Any] = Field(default_factory=dict)
    protocol_version: int = PROTOCOL_VERSION


class Heartbeat(Payload):
    TYPE = "heartbeat"
    cpu: float = Field(ge=0, le=100)
    ram: float = Field(ge=0, le=100)
    active_session_id: UUID | None = None
    remaining_seconds: int | None = Field(default=None, ge=0)


class StatusChange(Payload):
    TYPE = "status_change"
    status: Literal["ONLINE", "MAINTENANCE"]


class SyncRequest(Payload):
    TYPE = "sync_request"
    last_known_session_id: UUID | None = None


class Ack(Payload):
    TYPE = "ack"
    id: UUID


class Tamper(Payload):
    """A sign that someone tried to get past enforcement (overlay killed, clock changed...)."""

    TYPE = "tamper"
    kind: str = Field(min_length=1, max_length=64)
    detail: str = Field(default="", max_length=1000)


# --- server -> agent -------------------------------------------------------------------


class ServerHello(Payload):
    TYPE = "server_hello"
    server_time: AwareDatetime
    heartbeat_interval: int = Field(gt=0)
    protocol_version: int = PROTOCOL_VERSION


class HeartbeatAck(Payload):
    TYPE = "heartbeat_ack"
    server_time: AwareDatetime


class SessionStart(Payload):
    TYPE = "session_start"
    id: UUID
    started_at: AwareDatetime
    scheduled_end_at: AwareDatetime
    duration_minutes: int = Field(gt=0)
    user_name: str | None = None
    server_time: AwareDatetime | None = None


class SessionExtended(Payload):
    TYPE = "session_extended"
    id: UUID
    extended_minutes: int = Field(gt=0)
    new_end_time: AwareDatetime
    server_time: AwareDatetime | None = None


class SessionEnd(Payload):
    """A session stopped by staff: lock the PC, do not log the user off."""

    TYPE = "session_end"
    id: UUID
    ended_at: AwareDatetime
    reason: str
    action: Literal["lock"] = "lock"


class SessionExpired(Payload):
    """Paid time is over: lock, give the customer ``grace_seconds`` to save, then log off."""

    TYPE = "session_expired"
    id: UUID
    action: Literal["logoff"] = "logoff"
    grace_seconds: int = Field(ge=0)
    ended_at: AwareDatetime | None = None


class SyncResponse(Payload):
    TYPE = "sync_response"
    session: SessionInfo
    server_time: AwareDatetime


class NoSession(Payload):
    TYPE = "no_session"
    server_time: AwareDatetime | None = None


class Replaced(Payload):
    """Another connection took over this station: stop and do not reconnect on its own."""

    TYPE = "replaced"


class Reconnect(Payload):
    """The server is going away: reconnect (to another replica) after ``after_seconds``."""

    TYPE = "reconnect"
    after_seconds: float = Field(default=0, ge=0)


class Error(Payload):
    TYPE = "error"
    detail: str
    ref_id: UUID | None = None


AGENT_MESSAGES: dict[str, type[Payload]] = {
    cls.TYPE: cls for cls in (Auth, AgentHello, Heartbeat, StatusChange, SyncRequest, Ack, Tamper)
}
SERVER_MESSAGES: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        ServerHello,
        HeartbeatAck,
        SessionStart,
        SessionExtended,
        SessionEnd,
        SessionExpired,
        SyncResponse,
        NoSession,
        Replaced,
        Reconnect,
        Error,
    )
}
# Server commands the agent must acknowledge with ``ack``; the server records each ack.
ACKED_COMMANDS = frozenset(
    {SessionStart.TYPE, SessionExtended.TYPE, SessionEnd.TYPE, SessionExpired.TYPE}
)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=64)
    id: UUID = Field(default_factory=uuid4)
    data: dict[str, Any] = Field(default_factory=dict)


def encode(payload: Payload, message_id: UUID | None = None) -> str:
    """Serialise ``payload`` into one JSON frame."""
    envelope = {
        "type": payload.TYPE,
        "id": str(message_id or uuid4()),
        "data": payload.model_dump(mode="json"),
    }
    return json.dumps(envelope, separators=(",", ":"))


def decode(frame: str | bytes, registry: dict[str, type[Payload]]) -> tuple[UUID, Payload]:
    """Parse one frame against ``registry`` (``AGENT_MESSAGES`` or ``SERVER_MESSAGES``).

    Raises :class:`ProtocolError` naming what is wrong; never anything else.
    """
    try:
        envelope = Envelope.model_validate_json(frame)
    except ValidationError as err:
        raise ProtocolError(f"malformed envelope: {_first_error(err)}") from err
    payload_type = registry.get(envelope.type)
    if payload_type is None:
        raise ProtocolError(f"unknown message type {envelope.type!r}", envelope.id)
    try:
        return envelope.id, payload_type.model_validate(envelope.data)
    except ValidationError as err:
        raise ProtocolError(f"invalid {envelope.type}: {_first_error(err)}", envelope.id) from err


def utc_now() -> datetime:
    return datetime.now(UTC)


def _first_error(err: ValidationError) -> str:
    first = err.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "frame"
    return f"{where}: {first['msg']}"
