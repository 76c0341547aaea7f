"""Opening a card payment with the gateway and reading its state back.

Gateway failures become HTTP errors staff can act on, and say what happened to the money.
"""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Payment
from gameops.server.errors import BadGateway, ServiceUnavailable, Unprocessable
from gameops.server.payments.domain import Intent, PaymentMethod, PaymentStatus
from gameops.server.payments.gateway import GatewayRejected, GatewayUnavailable, PaymentGateway
from gameops.server.payments.service import Charge, record_payment


def require_gateway(gateway: PaymentGateway | None) -> PaymentGateway:
    if gateway is None:
        raise Unprocessable("Card payments are not enabled: no payment gateway is configured")
    return gateway


def intent_key(payment: Payment) -> str:
    """The gateway idempotency key: derived from our payment id, so however often the
    creation is retried, one payment has at most one intent."""
    return f"gameops-payment-{payment.id}"


async def open_card_payment(
    db: AsyncSession, gateway: PaymentGateway, charge: Charge
) -> tuple[Payment, Intent]:
    """A PENDING card payment with its PaymentIntent. If the gateway fails, the error
    rolls the whole request back: no payment, no session, and nothing can be charged
    because nobody ever saw the intent's client secret."""
    payment = record_payment(db, charge, PaymentMethod.CARD, PaymentStatus.PENDING)
    metadata = {"payment_id": str(payment.id), "purpose": charge.purpose.value}
    creation = gateway.create_intent(charge.amount, charge.currency, intent_key(payment), metadata)
    intent = await call_gateway(creation, "nothing was charged and nothing started")
    payment.gateway_intent_id = intent.id
    return payment, intent


async def fetch_intent(gateway: PaymentGateway, payment: Payment) -> Intent:
    if payment.gateway_intent_id is None:
        raise Unprocessable("This payment has no card intent")
    lookup = gateway.retrieve_intent(payment.gateway_intent_id)
    return await call_gateway(
        lookup, "the payment stays pending and is checked again automatically"
    )


async def call_gateway(call: Awaitable[Intent], consequence: str) -> Intent:
    try:
        return await call
    except GatewayUnavailable as err:
        raise ServiceUnavailable(f"{err}; {consequence}") from err
    except GatewayRejected as err:
        raise BadGateway(f"{err}; {consequence}") from err
