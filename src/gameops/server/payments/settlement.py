"""Settling a card payment once the gateway has decided: by staff confirming, by a
webhook, or by the sweeper. Whichever comes first locks the payment and settles it; the
others find it no longer PENDING and change nothing."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.accounts import service as accounts
from gameops.server.accounts.schemas import CustomerPublic
from gameops.server.db.models import Payment
from gameops.server.errors import BadRequest, Conflict, NotFound, PaymentRequired
from gameops.server.payments import card, repository
from gameops.server.payments import service as payments
from gameops.server.payments.domain import (
    CardOutcome,
    Intent,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Refusal,
    card_outcome,
    transaction_reference,
)
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.idempotency import Answer
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.payments.topups import TopUpResult


class TimeSales(Protocol):
    """What a card payment for play time does to its session once the card has decided.
    Sessions implement it (``sessions/card_sales.py``); the composition root passes it in,
    so money never imports the sessions that sit above it."""

    async def paid(self, db: AsyncSession, payment: Payment, actor_id: uuid.UUID | None) -> Answer:
        """The card paid: start or extend the session; the answer for the client."""
        ...

    async def unpaid(self, db: AsyncSession, payment: Payment, reason: str) -> None:
        """The card failed or was never paid: call off the sale it was for."""
        ...


async def confirm(
    db: AsyncSession,
    gateway: PaymentGateway | None,
    sales: TimeSales,
    payment_id: uuid.UUID,
    actor_id: uuid.UUID,
) -> Answer:
    """Staff say the card was paid: ask the gateway, and settle on its answer."""
    payment = await repository.get(db, payment_id, lock=True)
    if payment is None:
        raise NotFound("Payment not found")
    ensure_open(payment)
    intent = await card.fetch_intent(card.require_gateway(gateway), payment)
    return await settle(db, sales, payment, intent, actor_id)


def ensure_open(payment: Payment) -> None:
    if payment.method is not PaymentMethod.CARD:
        raise BadRequest("Only card payments are confirmed")
    if payment.status is PaymentStatus.COMPLETED:
        raise Conflict("Payment already completed", payment_id=str(payment.id))
    if payment.status is not PaymentStatus.PENDING:
        raise Conflict(f"Payment is {payment.status.value.lower()}", payment_id=str(payment.id))


async def settle(
    db: AsyncSession,
    sales: TimeSales,
    payment: Payment,
    intent: Intent,
    actor_id: uuid.UUID | None,
) -> Answer:
    outcome = card_outcome(intent)
    if outcome is CardOutcome.PAID:
        if intent.amount != payment.amount:
            raise Conflict("The gateway charged a different amount; check the payment by hand")
        return await _complete(db, sales, payment, intent, actor_id)
    if outcome is CardOutcome.FAILED:
        reason = intent.failure_message or f"payment {intent.status.value}"
        refusal = fail(db, payment, PaymentStatus.FAILED, reason, actor_id)
        await sales.unpaid(db, payment, reason)
        return refusal.status_code, refusal.body()
    raise PaymentRequired("Payment required", intent_status=intent.status.value)


def fail(
    db: AsyncSession,
    payment: Payment,
    status: PaymentStatus,
    reason: str,
    actor_id: uuid.UUID | None,
) -> Refusal:
    payments.set_status(db, payment, status, actor_id=actor_id, failure_reason=reason[:255])
    return Refusal(402, f"Payment failed: {reason}", str(payment.id), {})


async def _complete(
    db: AsyncSession,
    sales: TimeSales,
    payment: Payment,
    intent: Intent,
    actor_id: uuid.UUID | None,
) -> Answer:
    payments.set_status(db, payment, PaymentStatus.COMPLETED, actor_id=actor_id)
    payment.transaction_id = transaction_reference(intent)
    if payment.purpose is PaymentPurpose.TOPUP:
        return await _credit_topup(db, payment, actor_id)
    return await sales.paid(db, payment, actor_id)


async def _credit_topup(db: AsyncSession, payment: Payment, actor_id: uuid.UUID | None) -> Answer:
    assert payment.user_id is not None, "a top-up belongs to a customer"
    customer = await accounts.get_customer(db, payment.user_id)
    await payments.credit_topup(db, customer, payment, actor_id)
    await db.flush()
    result = TopUpResult(
        payment=PaymentPublic.model_validate(payment),
        customer=CustomerPublic.model_validate(customer),
    )
    return 200, result.model_dump(mode="json")
