"""The agent wire protocol: every message the server and a PC agent exchange.

Each message travels as one JSON text frame, an envelope ``{"type", "id", "data"}``. The
payload classes below are the only definition of ``data`` for each ``type``; the server and
the agent both encode and decode through :func:`encode` and :func:`decode`.

The payloads are msgspec structs, not pydantic models: this module is loaded by the PC agent,
whose memory budget (30 MB) pydantic alone would take a third of (docs/benchmarks.md).
Decoding validates every field and constraint; constructing a payload in code does not.
Everything an agent sends is bounded (frame size, string lengths, list and dict sizes, the
depth of ``specs``), and no string may hold a NUL character (PostgreSQL refuses it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

import msgspec
from msgspec import Meta, Raw, Struct, field

PROTOCOL_VERSION = 1
# The largest frame either side accepts. A real agent_hello is under 2 KiB.
MAX_FRAME_CHARS = 64 * 1024
_NO_NUL = "^[^\x00]*$"

UtcTime = Annotated[datetime, Meta(tz=True)]  # a time without a zone is refused
NonNegative = Annotated[int, Meta(ge=0, le=2**53)]
Positive = Annotated[int, Meta(gt=0, le=2**53)]
Seconds = Annotated[int, Meta(ge=0, le=10**9)]  # about 31 years
Percent = Annotated[float, Meta(ge=0, le=100)]
# Message types, tamper kinds: a plain identifier.
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern="^[A-Za-z0-9_.:-]+$")]
Token = Annotated[str, Meta(min_length=1, max_length=512, pattern=_NO_NUL)]
# Strings of at most so many characters, without NUL.
Text64 = Annotated[str, Meta(max_length=64, pattern=_NO_NUL)]
Text128 = Annotated[str, Meta(max_length=128, pattern=_NO_NUL)]
Text256 = Annotated[str, Meta(max_length=256, pattern=_NO_NUL)]
Detail = Annotated[str, Meta(max_length=1000, pattern=_NO_NUL)]
# ``specs``: facts about the PC (cpu_model, ram_mb, macs, interfaces...): scalars, lists of
# scalars or of flat records (one per network interface), and flat records; no deeper.
SpecKey = Annotated[str, Meta(min_length=1, max_length=64, pattern=_NO_NUL)]
SpecScalar = Text256 | int | float | bool | None
SpecRecord = Annotated[dict[SpecKey, SpecScalar], Meta(max_length=32)]
SpecValue = SpecScalar | Annotated[list[SpecScalar | SpecRecord], Meta(max_length=32)] | SpecRecord
Specs = Annotated[dict[SpecKey, SpecValue], Meta(max_length=64)]


class ProtocolError(ValueError):
    """A frame that is not a valid message; ``detail`` says what is wrong with it."""

    def __init__(self, detail: str, message_id: UUID | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.message_id = message_id


class Payload(Struct, frozen=True):
    """Base of every message body. ``TYPE`` is the envelope's ``type``; unknown fields are
    ignored so that either side may add optional fields without breaking the other."""

    TYPE: ClassVar[str]


class SessionInfo(Struct, frozen=True, kw_only=True):
    """A session as an agent needs it to count down."""

    id: UUID
    started_at: UtcTime
    scheduled_end_at: UtcTime
    duration_minutes: NonNegative
    user_name: Text128 | None = None


# --- agent -> server -------------------------------------------------------------------


class Auth(Payload, frozen=True):
    """First message of a client that could send neither a header nor a query token."""

    TYPE = "auth"
    token: Token


class AgentHello(Payload, frozen=True):
    TYPE = "agent_hello"
    agent_version: Text64
    os: Text128
    specs: Specs = field(default_factory=dict)
    protocol_version: Annotated[int, Meta(ge=0, le=1000)] = PROTOCOL_VERSION


class Heartbeat(Payload, frozen=True):
    TYPE = "heartbeat"
    cpu: Percent
    ram: Percent
    active_session_id: UUID | None = None
    remaining_seconds: Seconds | None = None
    idle_seconds: Seconds | None = None  # since the customer last touched mouse or keys
    tamper_locked: bool = False  # the agent holds a tamper lock (the server corrects a mismatch)


class StatusChange(Payload, frozen=True):
    TYPE = "status_change"
    status: Literal["ONLINE", "MAINTENANCE"]


class SyncRequest(Payload, frozen=True):
    TYPE = "sync_request"
    last_known_session_id: UUID | None = None
    tamper_locked: bool = False


class Ack(Payload, frozen=True):
    TYPE = "ack"
    id: UUID


class Tamper(Payload, frozen=True):
    """A sign that someone tried to get past enforcement (overlay killed, clock changed...).

    ``count``: how many times it happened for this one report (a burst, e.g. an overlay
    crashing at every start, is summed up rather than sent each time). ``lock``: the agent
    has locked the station for it, fail-closed, until staff clear it (``tamper_clear``).
    """

    TYPE = "tamper"
    kind: Name
    detail: Detail = ""
    count: Annotated[int, Meta(gt=0, le=1_000_000)] = 1
    lock: bool = False


StopReason = Literal["service_stop", "shutdown", "uninstall", "update"]


class Goodbye(Payload, frozen=True):
    """The agent is about to stop (sent before a clean stop, not on a crash or power cut).

    ``by``: who asked, where the agent can know it (an installer or updater says so);
    ``users``: the accounts logged on to the PC at the time; ``idle_seconds``: input-idle
    time at the stop (someone at the keyboard seconds before is evidence the PC is in use).
    """

    TYPE = "goodbye"
    reason: StopReason
    detail: Detail = ""
    by: Text128 | None = None
    users: Annotated[list[Text64], Meta(max_length=16)] = field(default_factory=list)
    idle_seconds: Seconds | None = None
    active_session_id: UUID | None = None


# --- self-service at the PC (issue 12 §1) ----------------------------------------------
# Credentials travel only in ``login``; the agent never queues it offline, writes it to disk
# or logs it, and the server never logs it either.

Secret = Annotated[str, Meta(min_length=1, max_length=128)]


class Login(Payload, frozen=True):
    """A customer at the PC: ``username`` (or member card number) with ``secret`` (password or
    PIN), or a guest ``ticket`` code. The server answers with ``login_result``."""

    TYPE = "login"
    username: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    secret: Secret | None = None
    ticket: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    package: Annotated[str, Meta(min_length=1, max_length=64)] | None = None  # by name

    def __repr__(self) -> str:  # never show the secret or the code, even in a traceback
        return f"Login(username={self.username!r}, secret=<hidden>, ticket=<hidden>)"


class Logout(Payload, frozen=True):
    """The customer logs out from the overlay: end the session, refund the unused time."""

    TYPE = "logout"
    session_id: UUID


# --- server -> agent -------------------------------------------------------------------


class ServerHello(Payload, frozen=True):
    TYPE = "server_hello"
    server_time: UtcTime
    heartbeat_interval: Positive
    protocol_version: int = PROTOCOL_VERSION


class HeartbeatAck(Payload, frozen=True):
    TYPE = "heartbeat_ack"
    server_time: UtcTime


class SessionStart(Payload, frozen=True):
    TYPE = "session_start"
    id: UUID
    started_at: UtcTime
    scheduled_end_at: UtcTime
    duration_minutes: Positive
    user_name: Text128 | None = None
    server_time: UtcTime | None = None


class SessionExtended(Payload, frozen=True):
    TYPE = "session_extended"
    id: UUID
    extended_minutes: Positive
    new_end_time: UtcTime
    server_time: UtcTime | None = None


class SessionEnd(Payload, frozen=True):
    """A session stopped by staff: lock the PC, do not log the user off."""

    TYPE = "session_end"
    id: UUID
    ended_at: UtcTime
    reason: Detail
    action: Literal["lock"] = "lock"


class SessionExpired(Payload, frozen=True):
    """Paid time is over: lock, give the customer ``grace_seconds`` to save, then log off."""

    TYPE = "session_expired"
    id: UUID
    grace_seconds: NonNegative
    action: Literal["logoff"] = "logoff"
    ended_at: UtcTime | None = None


class SyncResponse(Payload, frozen=True):
    TYPE = "sync_response"
    session: SessionInfo
    server_time: UtcTime


class NoSession(Payload, frozen=True):
    TYPE = "no_session"
    server_time: UtcTime | None = None


class TamperLock(Payload, frozen=True):
    """The station is tamper-locked on the server and the agent did not know (its state file
    was lost, say): lock, fail-closed, until ``tamper_clear``."""

    TYPE = "tamper_lock"
    reason: Detail
    locked_at: UtcTime


class TamperClear(Payload, frozen=True):
    """Staff cleared the station's tamper lock from the dashboard."""

    TYPE = "tamper_clear"
    cleared_at: UtcTime
    cleared_by: Text128 | None = None


class Replaced(Payload, frozen=True):
    """Another connection took over this station: stop and do not reconnect on its own."""

    TYPE = "replaced"


class Reconnect(Payload, frozen=True):
    """The server is going away: reconnect (to another replica) after ``after_seconds``."""

    TYPE = "reconnect"
    after_seconds: Annotated[float, Meta(ge=0)] = 0.0


class Error(Payload, frozen=True):
    TYPE = "error"
    detail: Detail
    ref_id: UUID | None = None


# --- self-service at the PC (issue 12 §1), server -> agent --------------------------------

LoginCode = Literal[
    "ok",
    "wrong_credentials",
    "account_disabled",
    "balance_too_low",
    "already_logged_in",
    "ticket_invalid",
    "ticket_used_up",
    "station_busy",
    "throttled",
    "logged_out",
    "not_logged_in",
    "package_unavailable",
    "reserved",
]


class PackageOffer(Struct, frozen=True, kw_only=True):
    """A package a member can buy from the login view: ``minutes`` of play for ``price``."""

    name: Annotated[str, Meta(max_length=64)]
    minutes: Positive
    price: NonNegative
    text: Annotated[str, Meta(max_length=120)]  # "3 hours: $12.00", for the view


class LoginResult(Payload, frozen=True):
    """The answer to ``login`` (and to ``logout``). ``message`` is for the customer, as is;
    ``retry_after_seconds`` says how long the login view must wait when throttled."""

    TYPE = "login_result"
    ok: bool
    code: LoginCode
    message: Annotated[str, Meta(max_length=300)] = ""
    session_id: UUID | None = None
    retry_after_seconds: Annotated[float, Meta(ge=0)] | None = None
    refunded: NonNegative = 0


class ReservedNotice(Struct, frozen=True, kw_only=True):
    """The PC is held for a member's booking (issue 12 §2), from a while before it starts
    until they log in or the booking is released: only they may log in here meanwhile."""

    name: Annotated[str, Meta(max_length=64)]  # the member's first name
    starts_at: UtcTime
    ends_at: UtcTime
    text: Annotated[str, Meta(max_length=120)]  # "Reserved for Ada at 18:00", as is


class StationInfo(Payload, frozen=True):
    """What the login view shows: where this is and the prices that apply here now."""

    TYPE = "station_info"
    station_name: Annotated[str, Meta(max_length=64)]
    venue_name: Annotated[str, Meta(max_length=128)]
    currency: Annotated[str, Meta(min_length=3, max_length=3)]
    member_hourly_rate: NonNegative
    guest_hourly_rate: NonNegative
    lines: Annotated[list[Annotated[str, Meta(max_length=120)]], Meta(max_length=16)] = field(
        default_factory=list
    )
    self_service: bool = True  # False: the venue sells only at the desk
    packages: Annotated[list[PackageOffer], Meta(max_length=16)] = field(default_factory=list)
    # Sent again whenever a booking starts or stops holding the PC (no ack: the next
    # agent_hello gets a fresh one anyway).
    reserved: ReservedNotice | None = None


class WalletUpdate(Payload, frozen=True):
    """Pay-as-you-go: what is left after this block was charged. ``buys_seconds``: the play
    time the balance (or ticket) buys after the current block ends, at the current rate."""

    TYPE = "wallet_update"
    session_id: UUID
    balance: NonNegative
    currency: Annotated[str, Meta(min_length=3, max_length=3)]
    balance_text: Annotated[str, Meta(max_length=64)]
    buys_seconds: NonNegative
    block_ends_at: UtcTime
    ticket: bool = False


# --- staff commands (issue 12 §3): server -> agent, and the agent's results --------------

CommandKind = Literal["message", "lock", "logoff", "restart", "shutdown"]
MacAddress = Annotated[str, Meta(pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]  # lower case
Ipv4 = Annotated[str, Meta(pattern=r"^\d{1,3}(\.\d{1,3}){3}$")]
CommandText = Annotated[str, Meta(max_length=500)]


class StationCommand(Payload, frozen=True):
    """Staff ask the station to do something now. The agent answers with
    ``command_result`` (same ``id``) once it has done it, or could not."""

    TYPE = "station_command"
    id: UUID
    kind: CommandKind
    text: CommandText = ""  # the message to show, for ``message``
    by: Annotated[str, Meta(max_length=64)] | None = None  # who sent it (shown with a message)


class CommandResult(Payload, frozen=True):
    """What came of a ``station_command`` or ``wake_relay``. For a message, ``seen`` says
    the customer clicked "Got it" (a second result, after the one that says it is shown)."""

    TYPE = "command_result"
    id: UUID
    ok: bool
    detail: CommandText = ""
    seen: bool = False


class WakeRelay(Payload, frozen=True):
    """Send a Wake-on-LAN magic packet for ``mac`` to ``address:port`` on this agent's
    network, for a station on the same subnet that is switched off. Answered with
    ``command_result``."""

    TYPE = "wake_relay"
    id: UUID
    mac: MacAddress
    address: Ipv4
    port: Annotated[int, Meta(ge=1, le=65535)] = 9


COMMAND_AGENT_MESSAGES = (CommandResult,)
COMMAND_SERVER_MESSAGES = (StationCommand, WakeRelay)


AGENT_MESSAGES: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        Auth,
        AgentHello,
        Heartbeat,
        StatusChange,
        SyncRequest,
        Ack,
        Tamper,
        Goodbye,
        # self-service
        Login,
        Logout,
        *COMMAND_AGENT_MESSAGES,
    )
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
        TamperLock,
        TamperClear,
        Replaced,
        Reconnect,
        Error,
        # self-service
        LoginResult,
        StationInfo,
        WalletUpdate,
        *COMMAND_SERVER_MESSAGES,
    )
}
# Server commands the agent must acknowledge with ``ack``; the server records each ack.
ACKED_COMMANDS = frozenset(
    {
        SessionStart.TYPE,
        SessionExtended.TYPE,
        SessionEnd.TYPE,
        SessionExpired.TYPE,
        TamperLock.TYPE,
        TamperClear.TYPE,
    }
)


class Envelope(Struct):
    type: Name
    id: UUID = field(default_factory=uuid4)
    data: Raw = Raw(b"{}")  # decoded once ``type`` says into which payload


def encode(payload: Payload, message_id: UUID | None = None) -> str:
    """Serialise ``payload`` into one JSON text frame."""
    envelope = {"type": payload.TYPE, "id": message_id or uuid4(), "data": payload}
    return msgspec.json.encode(envelope).decode()


def decode(frame: str | bytes, registry: dict[str, type[Payload]]) -> tuple[UUID, Payload]:
    """Parse one frame against ``registry`` (``AGENT_MESSAGES`` or ``SERVER_MESSAGES``).

    Raises :class:`ProtocolError` naming what is wrong; never anything else (a frame over
    ``MAX_FRAME_CHARS`` or nested deeper than Python's recursion limit included).
    """
    if len(frame) > MAX_FRAME_CHARS:
        raise ProtocolError(f"frame too large: {len(frame)} > {MAX_FRAME_CHARS} characters")
    try:
        envelope = msgspec.json.decode(frame, type=Envelope)
    except msgspec.DecodeError as err:
        raise ProtocolError(f"malformed envelope: {_explain(err)}") from err
    except RecursionError as err:
        raise ProtocolError("malformed envelope: nested too deeply") from err
    payload_type = registry.get(envelope.type)
    if payload_type is None:
        raise ProtocolError(f"unknown message type {envelope.type!r}", envelope.id)
    try:
        return envelope.id, msgspec.json.decode(envelope.data, type=payload_type)
    except msgspec.DecodeError as err:
        raise ProtocolError(f"invalid {envelope.type}: {_explain(err)}", envelope.id) from err
    except RecursionError as err:
        raise ProtocolError(f"invalid {envelope.type}: nested too deeply", envelope.id) from err


def as_data(payload: Payload) -> dict[str, Any]:
    """``payload`` as JSON-ready builtins (UUIDs and times as strings), e.g. to store it."""
    data: dict[str, Any] = msgspec.to_builtins(payload)
    return data


def utc_now() -> datetime:
    return datetime.now(UTC)


def _explain(err: msgspec.DecodeError) -> str:
    """msgspec's "Expected `int` >= 0 - at `$.cpu`" as "cpu: Expected `int` >= 0"."""
    message, _, where = str(err).partition(" - at `")
    key, _, where = where.rpartition("` in `")  # "at `key` in `$.specs`": a dict's key
    where = where.rstrip("`").lstrip("$").lstrip(".")
    return f"{where or 'frame'}{' (a key)' if key else ''}: {message}"
