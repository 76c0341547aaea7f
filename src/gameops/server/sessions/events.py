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
    # A PC: the paid clock waits for its agent to take the session (SessionClockStarted).
    waiting_for_agent: bool = False
    customer_id: uuid.UUID | None = None

    def audit(self) -> AuditLine:
        customer = {"user_id": str(self.customer_id), "customer_name": self.customer_name}
        return AuditLine(
            EventType.SESSION_CREATED,
            self._timing(
                duration_minutes=self.duration_minutes,
                waiting_for_agent=self.waiting_for_agent,
                **(customer if self.customer_id else {}),
            ),
        )


class SessionClockStarted(SessionTiming, frozen=True, kw_only=True):
    """The PC's agent took the session: its paid time runs from now."""

    waited_seconds: int
    # False: taken within the slack of the sale, whose times stand.
    restarted: bool = True

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SESSION_CLOCK_STARTED, self._timing(waited_seconds=self.waited_seconds)
        )


class SessionStartOverdue(DomainEvent, frozen=True, kw_only=True):
    """The PC has not taken its session within the venue's wait: staff should move the
    sale to another station or give it back."""

    session_id: uuid.UUID
    station_id: uuid.UUID
    waiting_since: datetime

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SESSION_START_OVERDUE, {"waiting_since": self.waiting_since.isoformat()}
        )


class SessionMoved(SessionTiming, frozen=True, kw_only=True):
    """A sale the PC never took, moved to another station (``station_id`` is the new one)."""

    from_station_id: uuid.UUID

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SESSION_MOVED, self._timing(from_station_id=str(self.from_station_id))
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


SESSION_EVENTS = (
    SessionStarted,
    SessionExtended,
    SessionEnded,
    SessionExpired,
    SessionCancelled,
    SessionClockStarted,
    SessionMoved,
)
