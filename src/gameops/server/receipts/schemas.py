from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gameops.server.payments.domain import PaymentMethod
from gameops.server.receipts.domain import ReceiptKind
from gameops.server.schemas import Schema


class ReceiptPublic(Schema):
    id: uuid.UUID
    number: int
    kind: ReceiptKind
    payment_id: uuid.UUID
    session_id: uuid.UUID | None
    user_id: uuid.UUID | None
    method: PaymentMethod
    total: int
    currency: str
    lines: list[dict[str, Any]]
    taxes: list[dict[str, Any]]
    customer: str | None
    operator: str | None
    issued_at: datetime
