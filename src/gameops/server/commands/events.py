"""What happens to a staff command, as typed domain events (each an audit line on the
dashboards' live feed, with the command's id so the floor can follow it)."""

from __future__ import annotations

import uuid
from typing import Any

from gameops.server.commands.domain import CommandKind, CommandStatus
from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType


class StationCommandIssued(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    actor_id: uuid.UUID
    command_id: uuid.UUID
    kind: CommandKind
    status: CommandStatus
    by: str
    text: str | None = None
    via_station_id: uuid.UUID | None = None
    session_effect: str | None = None

    def audit(self) -> AuditLine:
        data: dict[str, Any] = {
            "command_id": str(self.command_id),
            "kind": self.kind.value,
            "status": self.status.value,
            "by": self.by,
        }
        if self.text:
            data["text"] = self.text
        if self.via_station_id is not None:
            data["via_station_id"] = str(self.via_station_id)
        if self.session_effect is not None:
            data["session_effect"] = self.session_effect
        return AuditLine(EventType.STATION_COMMAND, data)


class StationCommandFinished(DomainEvent, frozen=True, kw_only=True):
    """The agent (or the server, for what it does itself) says how the command went."""

    station_id: uuid.UUID
    command_id: uuid.UUID
    kind: CommandKind
    ok: bool
    detail: str

    def audit(self) -> AuditLine:
        status = CommandStatus.DONE if self.ok else CommandStatus.FAILED
        data = {
            "command_id": str(self.command_id),
            "kind": self.kind.value,
            "status": status.value,
            "ok": self.ok,
            "detail": self.detail,
        }
        return AuditLine(EventType.STATION_COMMAND_RESULT, data)


class StationCommandSeen(DomainEvent, frozen=True, kw_only=True):
    """The customer clicked "Got it" under a message."""

    station_id: uuid.UUID
    command_id: uuid.UUID

    def audit(self) -> AuditLine:
        return AuditLine(EventType.STATION_COMMAND_SEEN, {"command_id": str(self.command_id)})


class StationCommandRefused(DomainEvent, frozen=True, kw_only=True):
    """Staff asked for a command the rules refused (a restart of an offline PC...): nothing
    was sent, but who asked for what, when, and why not is kept like any other command."""

    station_id: uuid.UUID
    actor_id: uuid.UUID
    kind: CommandKind
    by: str
    detail: str
    offer: str | None = None

    def audit(self) -> AuditLine:
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "status": "REFUSED",
            "by": self.by,
            "detail": self.detail,
        }
        if self.offer is not None:
            data["offer"] = self.offer
        return AuditLine(EventType.STATION_COMMAND_REFUSED, data)
