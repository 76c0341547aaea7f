"""Issuing receipts: an in-transaction handler gives every completed payment its receipt,
numbered from the venue's counter in the payment's own transaction, as its last work."""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from gameops import i18n
from gameops.server.db.engine import last_before_commit
from gameops.server.db.models import Payment, Receipt
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.payments.domain import PaymentStatus
from gameops.server.payments.events import PaymentChanged
from gameops.server.receipts import repository
from gameops.server.receipts.domain import (
    KIND_OF,
    Line,
    ReceiptKind,
    stored,
    taxes,
    time_line,
    topup_line,
)
from gameops.server.settings import Settings


class Receipts:
    def __init__(self, settings: Settings) -> None:
        self._time_rate = settings.tax_rate_bp
        language = settings.venue_language
        self._words = lambda key, **values: i18n.translate(language, key, **values)

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.handle(PaymentChanged, self.on_payment)

    async def on_payment(self, db: AsyncSession, event: PaymentChanged) -> None:
        if event.status is not PaymentStatus.COMPLETED:
            return
        payment = await db.get(Payment, event.payment_id)
        assert payment is not None  # recorded in this very transaction
        kind = KIND_OF[event.purpose]
        lines = await self._lines(db, kind, payment, event)
        total = sum(line.amount for line in lines)
        receipt = Receipt(  # numbered and stored as the transaction's last work
            kind=kind,
            payment_id=payment.id,
            session_id=payment.session_id,
            user_id=payment.user_id,
            method=payment.method,
            total=total,
            currency=payment.currency,
            lines=stored(lines),
            taxes=[] if kind is ReceiptKind.TOPUP else taxes(lines),
            customer=await repository.person(db, payment.user_id),
            operator=await repository.person(db, event.actor_id),
            issued_by=event.actor_id,
        )
        last_before_commit(db, partial(_number, db, receipt))

    async def _lines(
        self, db: AsyncSession, kind: ReceiptKind, payment: Payment, event: PaymentChanged
    ) -> list[Line]:
        if kind is ReceiptKind.TOPUP:
            return [topup_line(self._words, payment.amount)]
        if kind is ReceiptKind.SHOP:
            return await repository.shop_lines(db, payment.id)
        station = await repository.station_name(db, event.station_id)
        line = time_line(
            self._words, kind, payment.minutes, station, payment.amount, self._time_rate
        )
        return [line]


async def _number(db: AsyncSession, receipt: Receipt) -> None:
    """Number and store ``receipt`` just before the COMMIT: the counter's row lock, which
    every sale waits for, is then held for the COMMIT only (taken any earlier, 500 logins at
    once queued on it for the rest of each transaction)."""
    await repository.insert_numbered(db, receipt)
