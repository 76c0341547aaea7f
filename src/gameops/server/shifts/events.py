"""The till's shifts as typed domain events."""

from __future__ import annotations

import uuid

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType


class ShiftOpened(DomainEvent, frozen=True, kw_only=True):
    shift_id: uuid.UUID
    opening_float: int

    def audit(self) -> AuditLine:
        data = {"shift_id": str(self.shift_id), "opening_float": self.opening_float}
        return AuditLine(EventType.SHIFT_OPENED, data)


class ShiftClosed(DomainEvent, frozen=True, kw_only=True):
    shift_id: uuid.UUID
    expected_cash: int
    counted_cash: int
    variance: int

    def audit(self) -> AuditLine:
        return AuditLine(
            EventType.SHIFT_CLOSED,
            {
                "shift_id": str(self.shift_id),
                "expected_cash": self.expected_cash,
                "counted_cash": self.counted_cash,
                "variance": self.variance,
            },
        )


class ShiftCorrected(DomainEvent, frozen=True, kw_only=True):
    shift_id: uuid.UUID
    amount: int
    reason: str

    def audit(self) -> AuditLine:
        data = {"shift_id": str(self.shift_id), "amount": self.amount, "reason": self.reason}
        return AuditLine(EventType.SHIFT_CORRECTED, data)
