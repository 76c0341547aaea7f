from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from gameops.server.accounts.schemas import TopUpRequest
from gameops.server.deps import DbDep, SettingsDep, StaffUser
from gameops.server.errors import BadRequest, NotFound
from gameops.server.payments import card, repository, settlement, topups
from gameops.server.payments.domain import PaymentStatus
from gameops.server.payments.gateway import InvalidWebhook
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.payments.runtime import GatewayDep, TimeSalesDep
from gameops.server.payments.schemas import PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])
# Money in: a customer's top-up, under the customer's path.
topups_router = APIRouter(tags=["customers"])
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
    sales: TimeSalesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> Answer:
        return await settlement.confirm(db, gateway, sales, payment_id, staff.id)

    print_ = fingerprint("payments.confirm", staff.id, {"payment_id": str(payment_id)})
    return await answer_once(db, idempotency_key, print_, staff.id, run)


@router.post("/webhooks/stripe", include_in_schema=True)
async def stripe_webhook(
    request: Request, db: DbDep, gateway: GatewayDep, sales: TimeSalesDep
) -> dict[str, Any]:
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
    await settlement.settle(db, sales, payment, event.intent, None)
    return {"received": True, "handled": True}


@topups_router.post(
    "/users/{user_id}/topups",
    status_code=status.HTTP_201_CREATED,
    response_model=topups.TopUpResult,
    responses={202: {"description": "CARD: waiting for the card payment"}},
)
async def top_up(
    user_id: uuid.UUID,
    body: TopUpRequest,
    settings: SettingsDep,
    db: DbDep,
    staff: StaffUser,
    gateway: GatewayDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> Answer:
        return await topups.top_up(settings, db, user_id, body, staff, gateway)

    request = {"user_id": str(user_id), **body.model_dump(mode="json")}
    print_ = fingerprint("users.topup", staff.id, request)
    return await answer_once(db, idempotency_key, print_, staff.id, run)
