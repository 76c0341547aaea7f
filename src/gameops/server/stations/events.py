"""What happens to a station, as typed domain events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

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


class AgentTampered(DomainEvent, frozen=True, kw_only=True):
    """The agent saw (or the server concluded) an attempt to get past enforcement."""

    station_id: uuid.UUID
    kind: str
    detail: str
    count: int = 1  # a burst summed up in one report
    locks: bool = False  # the station is tamper-locked for it
    reason: str | None = None  # a stop's reason, for a stop in paid time

    def audit(self) -> AuditLine:
        data: dict[str, Any] = {"kind": self.kind, "detail": self.detail}
        if self.count > 1:
            data["count"] = self.count
        if self.locks:
            data["lock"] = True
        if self.reason is not None:
            data["reason"] = self.reason
        return AuditLine(EventType.AGENT_TAMPER, data)


class TamperLockCleared(DomainEvent, frozen=True, kw_only=True):
    """Staff cleared the lock; station control tells the agent (``tamper_clear``)."""

    station_id: uuid.UUID
    actor_id: uuid.UUID
    cleared_by: str
    locked_at: datetime
    kind: str | None
    detail: str | None

    def audit(self) -> AuditLine:
        data = {"locked_at": self.locked_at.isoformat(), "kind": self.kind, "detail": self.detail}
        return AuditLine(EventType.TAMPER_LOCK_CLEARED, data)


class AgentStopped(DomainEvent, frozen=True, kw_only=True):
    """The agent said goodbye before a clean stop; ``stop`` is what the station keeps."""

    station_id: uuid.UUID
    stop: dict[str, Any]

    def audit(self) -> AuditLine:
        return AuditLine(EventType.AGENT_STOPPED, self.stop)


class StoppedClientOnNetwork(DomainEvent, frozen=True, kw_only=True):
    """The venue router's answer changed: does it see the stopped client's PC?"""

    broadcast: ClassVar[bool] = False
    station_id: uuid.UUID
    seen: bool
    mac: str | None

    def audit(self) -> AuditLine:
        return AuditLine(EventType.STOPPED_CLIENT_ON_NETWORK, {"seen": self.seen, "mac": self.mac})
