"""Staff commands to stations: which may be sent, queued or refused, and what a restart or
shutdown does to a paid session. Pure: no I/O.

What happens to a paid session (issue 12 §3 asks us to choose, and say so):

- **restart** keeps the session running. The PC is back within a minute or two, its agent
  syncs and shows the time left; the minutes the PC is down are not given back (staff who
  want to can extend the session).
- **shutdown** ends the session as a staff stop does, at the moment it is sent: the
  unused paid time is refunded to the customer's balance when the venue refunds early
  stops (``GAMEOPS_REFUND_UNUSED_ON_STOP``), as for any stop.

Either needs ``confirm`` while a session runs: the first request is refused with 409,
``confirm_required`` and the ``session_effect`` text to show staff.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from gameops.protocol.wake import directed_broadcast, same_subnet
from gameops.server.errors import BadRequest, Conflict


class CommandKind(StrEnum):
    MESSAGE = "message"
    LOCK = "lock"
    LOGOFF = "logoff"
    RESTART = "restart"
    SHUTDOWN = "shutdown"
    WAKE = "wake"
    CLEAR_TAMPER = "clear_tamper"


class CommandStatus(StrEnum):
    QUEUED = "QUEUED"  # the agent is offline: sent when it connects again
    SENT = "SENT"  # on its way to the agent (or the wake relay); no result yet
    DONE = "DONE"
    FAILED = "FAILED"


class SessionEffect(StrEnum):
    KEPT = "kept"
    ENDED = "ended"


# What the agent carries out (the rest the server does itself).
AGENT_KINDS = frozenset(
    {CommandKind.MESSAGE, CommandKind.LOCK, CommandKind.LOGOFF, CommandKind.RESTART,
     CommandKind.SHUTDOWN}
)  # fmt: skip
# Still worth doing when the agent is back: a message, and a lock.
QUEUES_OFFLINE = frozenset({CommandKind.MESSAGE, CommandKind.LOCK})
SESSION_EFFECTS = {
    CommandKind.RESTART: SessionEffect.KEPT,
    CommandKind.SHUTDOWN: SessionEffect.ENDED,
}
EFFECT_TEXT = {
    SessionEffect.KEPT: "The session keeps running: the PC comes back and the time left "
    "shows again; the minutes it is down are not given back.",
    SessionEffect.ENDED: "The session is ended now, as a stop from the desk (unused time "
    "refunded to the customer's balance if the venue refunds early stops).",
}
MAX_TEXT = 500

Delivery = Literal["send", "queue", "server", "wake"]


@dataclass(frozen=True)
class Target:
    """What the rules need to know of a station at the moment a command is asked for."""

    name: str
    is_pc: bool
    online: bool  # its agent is connected
    in_session: bool  # a paid session runs on it
    tamper_locked: bool
    mac: str | None  # the MAC its agent reported, for a wake


@dataclass(frozen=True)
class Plan:
    delivery: Delivery
    session_effect: SessionEffect | None = None


def plan(kind: CommandKind, target: Target, text: str = "", *, confirm: bool = False) -> Plan:
    """How ``kind`` is carried out on ``target``; raises the error staff see otherwise."""
    if not target.is_pc:
        raise Conflict(f"{target.name} is a console: commands go to PC agents")
    if kind is CommandKind.MESSAGE and not text.strip():
        raise BadRequest("A message needs a text")
    if kind is CommandKind.WAKE:
        return _wake(target)
    if kind is CommandKind.CLEAR_TAMPER:
        if not target.tamper_locked:
            raise Conflict(f"{target.name} is not tamper-locked")
        return Plan("server")
    effect = _session_effect(kind, target, confirm)
    if target.online:
        return Plan("send", effect)
    if kind in QUEUES_OFFLINE:
        return Plan("queue")
    if kind is CommandKind.RESTART:
        raise Conflict(f"{target.name} is offline: use wake to switch it on", offer="wake")
    raise Conflict(f"{target.name} is offline: {kind.value} needs its agent connected")


def _wake(target: Target) -> Plan:
    if target.online:
        raise Conflict(f"{target.name} is already on (its agent is connected)")
    if target.mac is None:
        raise Conflict(f"{target.name} has no MAC address: its agent never reported one")
    return Plan("wake")


def _session_effect(kind: CommandKind, target: Target, confirm: bool) -> SessionEffect | None:
    effect = SESSION_EFFECTS.get(kind)
    if effect is None or not target.in_session:
        return None
    if not confirm:
        raise Conflict(
            f"{target.name} is in a paid session: confirm the {kind.value}",
            confirm_required=True,
            session_effect=effect.value,
            session_effect_text=EFFECT_TEXT[effect],
        )
    return effect


def expired(created_at: datetime, now: datetime, queue_minutes: int) -> bool:
    """A queued command this old is not worth doing any more ("Closing in 5 minutes" an
    hour later); it is failed as expired instead of sent."""
    return now - created_at > timedelta(minutes=queue_minutes)


def unanswered(
    kind: CommandKind, sent_at: datetime, now: datetime, answer_seconds: int, queue_minutes: int
) -> str | None:
    """What a command sent at ``sent_at`` with no answer yet has come to: None while it may
    still come. A message or lock is sent again at the agent's next sync until it expires."""
    if kind in QUEUES_OFFLINE:
        if expired(sent_at, now, queue_minutes):
            return f"expired: no answer from the PC within {queue_minutes} minutes"
        return None
    if now - sent_at > timedelta(seconds=answer_seconds):
        return f"no answer from the PC within {answer_seconds} s: it may or may not have done it"
    return None


def redelivered_on_sync(kind: CommandKind) -> bool:
    """Whether a command still without a result is sent again when its agent syncs. Never a
    restart or shutdown: the agent coming back from one must not do it again."""
    return kind in QUEUES_OFFLINE


# --- Wake-on-LAN routing ---------------------------------------------------------------


@dataclass(frozen=True)
class Interface:
    """A network interface as an agent reports it in its specs: ``interfaces`` maps each
    MAC to its IPv4 address with prefix, ``{"aa:bb:cc:dd:ee:ff": "192.168.1.21/24"}``."""

    mac: str
    ip: str
    netmask: str


@dataclass(frozen=True)
class WakeRoute:
    address: str  # where the magic packet goes (a broadcast address)
    relay_station_id: uuid.UUID | None = None  # None: the server sends it


def reported_interfaces(specs: dict[str, object] | None) -> list[Interface]:
    """The IPv4 interfaces in an agent's specs; anything malformed is skipped."""
    found: list[Interface] = []
    raw = (specs or {}).get("interfaces")
    for mac, address in raw.items() if isinstance(raw, dict) else []:
        try:
            interface = ipaddress.IPv4Interface(str(address))
        except ValueError:
            continue
        found.append(Interface(str(mac), str(interface.ip), str(interface.netmask)))
    return found


def wake_mac(specs: dict[str, object] | None) -> str | None:
    """The MAC to wake: the one on an interface with an address, else the first reported."""
    for interface in reported_interfaces(specs):
        return interface.mac
    macs = (specs or {}).get("macs")
    return str(macs[0]) if isinstance(macs, list) and macs else None


def route_wake(
    target_specs: dict[str, object] | None,
    relays: list[tuple[uuid.UUID, dict[str, object] | None]],
    *,
    from_server: bool,
    server_address: str | None,
) -> WakeRoute:
    """From the server (on the venue LAN) or through an online agent on the PC's subnet.

    ``relays``: (station id, specs) of the PCs whose agents are online now.
    """
    target = next(iter(reported_interfaces(target_specs)), None)
    if from_server:
        fallback = directed_broadcast(target.ip, target.netmask) if target else "255.255.255.255"
        return WakeRoute(server_address or fallback)
    if target is None:
        raise Conflict("The PC never reported its network address: no relay can be chosen")
    for station_id, specs in relays:
        for interface in reported_interfaces(specs):
            if same_subnet(interface.ip, target.ip, interface.netmask):
                return WakeRoute(directed_broadcast(target.ip, target.netmask), station_id)
    raise Conflict(
        "No online station on the PC's subnet to relay the wake "
        "(or set GAMEOPS_WAKE_FROM_SERVER when the server is on the venue LAN)"
    )
