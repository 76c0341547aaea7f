"""Adding money to a customer's prepaid balance: cash at once, card once the card is paid."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.accounts import service as accounts
from gameops.server.accounts.domain import check_amount, check_currency, check_positive
from gameops.server.accounts.schemas import CustomerPublic, TopUpRequest
from gameops.server.db.models import Payment, User
from gameops.server.payments import card
from gameops.server.payments import service as payments
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.idempotency import Answer
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.settings import Settings


class TopUpResult(BaseModel):
    payment: PaymentPublic
    customer: CustomerPublic
    client_secret: str | None = None


async def top_up(
    settings: Settings,
    db: AsyncSession,
    user_id: uuid.UUID,
    body: TopUpRequest,
    actor: User,
    gateway: PaymentGateway | None,
) -> Answer:
    check_positive(body.amount)
    check_amount(body.amount, settings.max_amount)
    check_currency(body.currency, settings.currency)
    customer = await accounts.get_customer(db, user_id)
    charge = payments.Charge(
        amount=body.amount,
        currency=settings.currency,
        minutes=0,
        purpose=PaymentPurpose.TOPUP,
        actor_id=actor.id,
        user_id=customer.id,
    )
    if body.method == "CARD":
        # Credited when the card is paid (confirm, webhook or the sweeper).
        payment, intent = await card.open_card_payment(db, card.require_gateway(gateway), charge)
        await db.flush()
        return 202, _result(payment, customer, intent.client_secret)
    payment = await payments.take_topup(db, customer, charge, PaymentMethod.CASH)
    await db.flush()
    return 201, _result(payment, customer, None)


def _result(payment: Payment, customer: User, client_secret: str | None) -> dict[str, object]:
    result = TopUpResult(
        payment=PaymentPublic.model_validate(payment),
        customer=CustomerPublic.model_validate(customer),
        client_secret=client_secret,
    )
    return result.model_dump(mode="json")
