"""The periodic pass over card payments still PENDING: settle those the gateway has
decided (a lost webhook, a confirm that timed out), cancel those unpaid for too long, and
forget old idempotency keys. Gateway calls happen outside any database transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog

from gameops.protocol import utc_now
from gameops.server.db.engine import Database
from gameops.server.errors import GameOpsError
from gameops.server.jobs import Periodic
from gameops.server.payments import card, idempotency, repository, settlement
from gameops.server.payments.domain import CardOutcome, Intent, PaymentStatus, card_outcome
from gameops.server.payments.gateway import GatewayError, PaymentGateway
from gameops.server.settings import Settings

log = structlog.get_logger(__name__)


class PaymentSweeper:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        gateway: PaymentGateway | None,
        sales: settlement.TimeSales,
    ) -> None:
        self._database = database
        self._sales = sales
        self._settings = settings
        self._gateway = gateway
        self._periodic = Periodic("payments-sweep", settings.payments_sweep_seconds, self.sweep)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sweep(self) -> None:
        now = utc_now()
        async with self._database.transaction() as db:
            pending = await repository.pending_card_payments(db, created_before=now)
            cutoff = now - timedelta(hours=self._settings.idempotency_key_hours)
            await idempotency.purge_older_than(db, cutoff)
        if self._gateway is None:
            return
        for payment_id in pending:
            try:
                await self._check(self._gateway, payment_id)
            except (GatewayError, GameOpsError) as err:
                log.warning("card payment left pending", payment_id=str(payment_id), error=str(err))

    async def _check(self, gateway: PaymentGateway, payment_id: uuid.UUID) -> None:
        async with self._database.sessionmaker() as db:
            payment = await repository.get(db, payment_id)
        if payment is None or payment.gateway_intent_id is None:
            return
        intent = await gateway.retrieve_intent(payment.gateway_intent_id)
        wait = timedelta(minutes=self._settings.pending_payment_minutes)
        overdue = payment.created_at <= utc_now() - wait
        if card_outcome(intent) is CardOutcome.WAITING and overdue:
            # Cancel at the gateway first: once cancelled there, it can no longer be paid.
            # If it was paid a moment ago this fails, and the next pass settles it instead.
            intent = await gateway.cancel_intent(intent.id, f"{card.intent_key(payment)}-cancel")
            await self._settle(payment_id, intent, cancelled=True)
        elif card_outcome(intent) is not CardOutcome.WAITING:
            await self._settle(payment_id, intent, cancelled=False)

    async def _settle(self, payment_id: uuid.UUID, intent: Intent, *, cancelled: bool) -> None:
        async with self._database.transaction() as db:
            payment = await repository.get(db, payment_id, lock=True)
            if payment is None or payment.status is not PaymentStatus.PENDING:
                return  # settled meanwhile by a confirm or a webhook
            if cancelled:
                minutes = self._settings.pending_payment_minutes
                reason = f"not paid within {minutes:g} minutes"
                settlement.fail(db, payment, PaymentStatus.CANCELLED, reason, None)
                await self._sales.unpaid(db, payment, reason)
            else:
                await settlement.settle(db, self._sales, payment, intent, None)
        log.info("card payment settled by the sweeper", payment_id=str(payment_id))
