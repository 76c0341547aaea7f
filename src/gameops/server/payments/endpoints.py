from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gameops.server.deps import DbDep, StaffUser
from gameops.server.errors import BadRequest, NotFound
from gameops.server.payments import card, repository, settlement
from gameops.server.payments.domain import PaymentStatus
from gameops.server.payments.gateway import InvalidWebhook
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.payments.runtime import GatewayDep
from gameops.server.payments.schemas import PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])
SETTLING_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
}


@router.get("/{payment_id}")
async def get_payment(payment_id: uuid.UUID, db: DbDep, _: StaffUser) -> PaymentPublic:
    payment = await repository.get(db, payment_id)
    if payment is None:
        raise NotFound("Payment not found")
    return PaymentPublic.model_validate(payment)


@router.post(
    "/{payment_id}/confirm",
    status_code=201,
    responses={
        200: {"description": "an extension or a top-up was paid"},
        201: {"description": "the session was paid and has started"},
        402: {"description": "the card is not paid (yet), or failed"},
        409: {"description": "already completed, failed or cancelled"},
    },
)
async def confirm_payment(
    payment_id: uuid.UUID,
    db: DbDep,
    staff: StaffUser,
    gateway: GatewayDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> Answer:
        return await settlement.confirm(db, gateway, payment_id, staff.id)

    print_ = fingerprint("payments.confirm", staff.id, {"payment_id": str(payment_id)})
    return await answer_once(db, idempotency_key, print_, staff.id, run)


@router.post("/webhooks/stripe", include_in_schema=True)
async def stripe_webhook(request: Request, db: DbDep, gateway: GatewayDep) -> dict[str, Any]:
    """Stripe's notifications; the signature is checked before anything is read."""
    payload = await request.body()
    try:
        event = card.require_gateway(gateway).parse_webhook(
            payload, request.headers.get("Stripe-Signature")
        )
    except InvalidWebhook as err:
        raise BadRequest(str(err)) from err
    if event.type not in SETTLING_EVENTS:
        return {"received": True, "handled": False}
    payment = await repository.by_intent(db, event.intent.id, lock=True)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        return {"received": True, "handled": False}
    # An error here answers non-2xx and rolls back: Stripe retries, the sweeper too.
    await settlement.settle(db, payment, event.intent, None)
    return {"received": True, "handled": True}
