"""A customer's balance moving, as a typed domain event."""

from __future__ import annotations

import uuid

from gameops.server.accounts.domain import LedgerKind, event_for
from gameops.server.events.base import AuditLine, DomainEvent


class BalanceMoved(DomainEvent, frozen=True, kw_only=True):
    """One ledger entry: ``amount`` is signed (a debit is negative)."""

    user_id: uuid.UUID
    kind: LedgerKind
    amount: int
    balance_after: int
    currency: str
    reason: str
    payment_id: uuid.UUID | None = None

    def audit(self) -> AuditLine:
        return AuditLine(
            event_for(self.kind),
            {
                "user_id": str(self.user_id),
                "amount": self.amount,
                "balance_after": self.balance_after,
                "currency": self.currency,
                "reason": self.reason,
                "payment_id": str(self.payment_id) if self.payment_id else None,
            },
        )
