from __future__ import annotations

import uuid
from datetime import datetime

from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus
from gameops.server.schemas import Schema


class PaymentPublic(Schema):
    id: uuid.UUID
    session_id: uuid.UUID | None
    user_id: uuid.UUID | None
    amount: int
    currency: str
    method: PaymentMethod
    status: PaymentStatus
    purpose: PaymentPurpose
    minutes: int
    created_at: datetime
    completed_at: datetime | None
    transaction_id: str | None = None
    failure_reason: str | None = None
