"""Recording what was paid for a session. Cash only here; other methods come with accounts."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import GameSession, Payment
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus


def take_cash(
    db: AsyncSession,
    session: GameSession,
    amount: int,
    minutes: int,
    purpose: PaymentPurpose,
    actor_id: uuid.UUID | None,
) -> Payment:
    payment = Payment(
        id=uuid.uuid4(),
        session_id=session.id,
        user_id=session.user_id,
        amount=amount,
        currency=session.currency,
        method=PaymentMethod.CASH,
        status=PaymentStatus.COMPLETED,
        purpose=purpose,
        minutes=minutes,
        created_by=actor_id,
        completed_at=utc_now(),
    )
    db.add(payment)
    record_event(
        db,
        EventType.PAYMENT_COMPLETED,
        station_id=session.station_id,
        session_id=session.id,
        actor_id=actor_id,
        data={
            "payment_id": str(payment.id),
            "amount": amount,
            "currency": payment.currency,
            "method": payment.method.value,
            "purpose": purpose.value,
        },
    )
    return payment
