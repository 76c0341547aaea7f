"""What happens to a station, as typed domain events."""

from __future__ import annotations

import uuid
from typing import Any

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType
from gameops.server.stations.domain import StationStatus


class StationStatusChanged(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    previous: StationStatus
    status: StationStatus
    reason: str

    def audit(self) -> AuditLine:
        data = {"from": self.previous.value, "to": self.status.value, "reason": self.reason}
        return AuditLine(EventType.STATION_STATUS_CHANGED, data)


class StationCreated(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    name: str
    station_type: str

    def audit(self) -> AuditLine:
        return AuditLine(EventType.STATION_CREATED, {"name": self.name, "type": self.station_type})


class StationUpdated(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    changes: dict[str, Any]

    def audit(self) -> AuditLine:
        return AuditLine(EventType.STATION_UPDATED, self.changes)


class AgentAccessEnded(DomainEvent, frozen=True, kw_only=True):
    """The station's agent may no longer connect with the credentials it has: its open
    connection, on whichever replica, is closed (archived station, token replaced or revoked)."""

    station_id: uuid.UUID
    reason: str


class StationArchived(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    name: str

    def audit(self) -> AuditLine:
        return AuditLine(EventType.STATION_DELETED, {"name": self.name})


class AgentTokenGranted(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID
    revoked_previous: bool

    def audit(self) -> AuditLine:
        return AuditLine(EventType.AGENT_TOKEN_ISSUED, {"revoked_previous": self.revoked_previous})


class AgentTokenRevoked(DomainEvent, frozen=True, kw_only=True):
    station_id: uuid.UUID

    def audit(self) -> AuditLine:
        return AuditLine(EventType.AGENT_TOKEN_REVOKED, {})
