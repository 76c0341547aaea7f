"""Money as typed domain events: payments recorded or changing status."""

from __future__ import annotations

import uuid

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus

_AUDIT_TYPE = {
    PaymentStatus.PENDING: EventType.PAYMENT_CREATED,
    PaymentStatus.COMPLETED: EventType.PAYMENT_COMPLETED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.CANCELLED: EventType.PAYMENT_FAILED,
}


class PaymentChanged(DomainEvent, frozen=True, kw_only=True):
    """A payment was recorded, or its status changed (a card paid, failed, cancelled)."""

    payment_id: uuid.UUID
    amount: int
    currency: str
    method: PaymentMethod
    purpose: PaymentPurpose
    status: PaymentStatus
    user_id: uuid.UUID | None = None
    failure_reason: str | None = None

    def audit(self) -> AuditLine:
        return AuditLine(
            _AUDIT_TYPE[self.status],
            {
                "payment_id": str(self.payment_id),
                "amount": self.amount,
                "currency": self.currency,
                "method": self.method.value,
                "purpose": self.purpose.value,
                "status": self.status.value,
                "user_id": str(self.user_id) if self.user_id else None,
                "failure_reason": self.failure_reason,
            },
        )
