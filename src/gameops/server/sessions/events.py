"""What happens to a session, as typed domain events. Station control (agent commands,
console devices) and the expiry scheduler subscribe to these; each also writes the audit
line the dashboards have always shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType


class SessionTiming(DomainEvent, frozen=True, kw_only=True):
    """The session's timing and money after the change (what every audit line shows)."""

    session_id: uuid.UUID
    station_id: uuid.UUID
    started_at: datetime
    scheduled_end_at: datetime
    booked_minutes: int
    amount_total: int

    def _timing(self, **extra: Any) -> dict[str, Any]:
        return {
            "scheduled_end_at": self.scheduled_end_at.isoformat(),
            "booked_minutes": self.booked_minutes,
            "amount_total": self.amount_total,
            **extra,
        }


class SessionStarted(SessionTiming, frozen=True, kw_only=True):
    """The session is paid and its time runs: the station must let the customer play."""

    duration_minutes: int
    customer_name: str | None = None
    customer_id: uuid.UUID | None = None

    def audit(self) -> AuditLine:
        customer = {"user_id": str(self.customer_id), "customer_name": self.customer_name}
        return AuditLine(
            EventType.SESSION_CREATED,
            self._timing(
                duration_minutes=self.duration_minutes, **(customer if self.customer_id else {})
            ),
        )


class SessionExtended(SessionTiming, frozen=True, kw_only=True):
    additional_minutes: int

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SESSION_EXTENDED, self._timing(additional_minutes=self.additional_minutes)
        )


class SessionEnded(SessionTiming, frozen=True, kw_only=True):
    """Stopped before its end (by staff)."""

    ended_at: datetime
    reason: str
    refunded: int = 0

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SESSION_ENDED, self._timing(reason=self.reason, refunded=self.refunded)
        )


class SessionExpired(SessionTiming, frozen=True, kw_only=True):
    ended_at: datetime
    reason: str

    def audit(self) -> AuditLine:
        return AuditLine(EventType.SESSION_EXPIRED, self._timing(reason=self.reason))


class SessionCancelled(DomainEvent, frozen=True, kw_only=True):
    """A card sale that was never paid: the session ends without having run."""

    session_id: uuid.UUID
    station_id: uuid.UUID
    reason: str

    def audit(self) -> AuditLine:
        return AuditLine(EventType.SESSION_CANCELLED, {"reason": self.reason})


SESSION_EVENTS = (SessionStarted, SessionExtended, SessionEnded, SessionExpired, SessionCancelled)
