"""The periodic pass over card payments still PENDING: settle those the gateway has
decided (a lost webhook, a confirm that timed out), cancel those unpaid for too long, and
forget old idempotency keys. Gateway calls happen outside any database transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog

from gameops.protocol import utc_now
from gameops.server.context import AppContext
from gameops.server.errors import GameOpsError
from gameops.server.payments import card, idempotency, repository, settlement
from gameops.server.payments.domain import CardOutcome, Intent, PaymentStatus, card_outcome
from gameops.server.payments.gateway import GatewayError, PaymentGateway

log = structlog.get_logger(__name__)


async def sweep(context: AppContext, gateway: PaymentGateway | None) -> None:
    now = utc_now()
    async with context.transaction() as db:
        pending = await repository.pending_card_payments(db, created_before=now)
        cutoff = now - timedelta(hours=context.settings.idempotency_key_hours)
        await idempotency.purge_older_than(db, cutoff)
    if gateway is None:
        return
    for payment_id in pending:
        try:
            await _check(context, gateway, payment_id)
        except (GatewayError, GameOpsError) as err:
            log.warning("card payment left pending", payment_id=str(payment_id), error=str(err))


async def _check(context: AppContext, gateway: PaymentGateway, payment_id: uuid.UUID) -> None:
    async with context.sessionmaker() as db:
        payment = await repository.get(db, payment_id)
    if payment is None or payment.gateway_intent_id is None:
        return
    intent = await gateway.retrieve_intent(payment.gateway_intent_id)
    overdue = payment.created_at <= utc_now() - _wait(context)
    if card_outcome(intent) is CardOutcome.WAITING and overdue:
        # Cancel at the gateway first: once cancelled there, it can no longer be paid.
        # If it was paid a moment ago this fails, and the next pass settles it instead.
        intent = await gateway.cancel_intent(intent.id, f"{card.intent_key(payment)}-cancel")
        await _settle(context, payment_id, intent, cancelled=True)
    elif card_outcome(intent) is not CardOutcome.WAITING:
        await _settle(context, payment_id, intent, cancelled=False)


async def _settle(
    context: AppContext, payment_id: uuid.UUID, intent: Intent, *, cancelled: bool
) -> None:
    async with context.transaction() as db:
        payment = await repository.get(db, payment_id, lock=True)
        if payment is None or payment.status is not PaymentStatus.PENDING:
            return  # settled meanwhile by a confirm or a webhook
        if cancelled:
            minutes = context.settings.pending_payment_minutes
            reason = f"not paid within {minutes:g} minutes"
            settlement.fail(db, payment, PaymentStatus.CANCELLED, reason, None)
            await settlement.cancel_session_of(db, payment, reason)
        else:
            await settlement.settle(context, db, payment, intent, None)
    log.info("card payment settled by the sweeper", payment_id=str(payment_id))


def _wait(context: AppContext) -> timedelta:
    return timedelta(minutes=context.settings.pending_payment_minutes)
