"""Card sales once the card has decided (flow 6): the held session starts, the
extension is applied, or the sale is called off. Money that arrives for time that can no
longer be given is never lost: it goes to the customer's balance, or staff are told."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gameops.protocol import utc_now
from gameops.server.db.models import GameSession, Payment
from gameops.server.errors import Conflict
from gameops.server.events.base import record
from gameops.server.payments import card, repository, settlement
from gameops.server.payments import service as payments
from gameops.server.payments.domain import (
    CardOutcome,
    PaymentPurpose,
    PaymentStatus,
    Refusal,
    card_outcome,
)
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.idempotency import Answer
from gameops.server.sessions import service
from gameops.server.sessions.domain import SessionStatus, scheduled_end
from gameops.server.sessions.events import SessionCancelled
from gameops.server.sessions.schemas import SessionCharged, SessionStopped
from gameops.server.stations import service as stations


class CardTimeSales:
    """Settling a card payment for play time (``payments.settlement.TimeSales``)."""

    async def paid(self, db: AsyncSession, payment: Payment, actor_id: uuid.UUID | None) -> Answer:
        assert payment.session_id is not None, "card payments for time belong to a session"
        session = await service.get_session(db, payment.session_id, lock=True)
        if payment.purpose is PaymentPurpose.SESSION_START:
            sale, success = await activate_paid(db, session, payment, actor_id), 201
        else:
            sale, success = await extend_paid(db, session, payment, actor_id), 200
        if isinstance(sale, Refusal):
            return sale.status_code, sale.body()
        return success, sale.model_dump(mode="json")

    async def unpaid(self, db: AsyncSession, payment: Payment, reason: str) -> None:
        if payment.purpose is PaymentPurpose.SESSION_START and payment.session_id is not None:
            session = await service.get_session(db, payment.session_id, lock=True)
            cancel_pending(db, session, reason)


async def activate_paid(
    db: AsyncSession,
    session: GameSession,
    payment: Payment,
    actor_id: uuid.UUID | None,
) -> SessionCharged | Refusal:
    """The card paid for a pending session: its time starts now."""
    if session.status is not SessionStatus.PENDING_PAYMENT:
        return await _paid_too_late(db, session, payment, actor_id)
    station = await stations.get_station(db, session.station_id, lock=True)
    await _load_customer(db, session)
    now = utc_now()
    session.status, session.started_at = SessionStatus.ACTIVE, now
    session.scheduled_end_at = scheduled_end(now, session.duration_minutes)
    await service.flush_one_active(db)
    await service.begin(db, station, session, actor_id)
    await db.flush()
    return service.charged(session, payment, station)


async def extend_paid(
    db: AsyncSession,
    session: GameSession,
    payment: Payment,
    actor_id: uuid.UUID | None,
) -> SessionCharged | Refusal:
    """The card paid for an extension: applied if the session is still running."""
    if session.status is not SessionStatus.ACTIVE or session.scheduled_end_at <= utc_now():
        return await _paid_too_late(db, session, payment, actor_id)
    station = await stations.get_station(db, session.station_id, lock=True)
    await _load_customer(db, session)
    await service.apply_extension(db, station, session, payment, actor_id)
    await db.flush()
    return service.charged(session, payment, station)


async def _load_customer(db: AsyncSession, session: GameSession) -> None:
    # Controllers read session.user (the PC agent shows the name); it is lazy="raise".
    set_committed_value(session, "user", await service.customer_of(db, session))


def cancel_pending(db: AsyncSession, session: GameSession, reason: str) -> None:
    """A card sale that was never paid: the session ends without having run."""
    if session.status is not SessionStatus.PENDING_PAYMENT:
        return
    session.status = SessionStatus.CANCELLED
    session.actual_end_at = utc_now()
    session.end_reason = "unpaid"
    record(
        db, SessionCancelled(station_id=session.station_id, session_id=session.id, reason=reason)
    )


async def _paid_too_late(
    db: AsyncSession, session: GameSession, payment: Payment, actor_id: uuid.UUID | None
) -> Refusal:
    """Money arrived for time that can no longer be given: it goes to the customer's
    balance, or staff are told to refund the card. Either way it is not lost."""
    customer = await service.customer_of(db, session)
    if customer is None:
        detail = "The session ended before the card payment arrived; refund the card payment"
        return Refusal(409, detail, str(payment.id), {"session_id": str(session.id)})
    await payments.refund_to_balance(
        db, customer, payment, "paid after the session ended", actor_id
    )
    detail = "The session ended before the card payment arrived; it went to the balance"
    return Refusal(409, detail, str(payment.id), {"session_id": str(session.id)})


async def cancel_card_sale(
    db: AsyncSession, gateway: PaymentGateway | None, session: GameSession, actor_id: uuid.UUID
) -> SessionStopped:
    """Staff call off a card sale still waiting for the card. The intent is cancelled at
    the gateway first, so the card can no longer be charged for time never given."""
    payment = await repository.pending_for_session(db, session.id)
    if payment is None:
        raise Conflict("The session is not waiting for a card payment")
    gateway = card.require_gateway(gateway)
    intent = await card.fetch_intent(gateway, payment)
    if card_outcome(intent) is CardOutcome.PAID:
        raise Conflict("The card is already paid: confirm the payment", payment_id=str(payment.id))
    if card_outcome(intent) is CardOutcome.WAITING:
        cancel = gateway.cancel_intent(intent.id, f"{card.intent_key(payment)}-cancel")
        await card.call_gateway(cancel, "the sale stays pending")
    settlement.fail(db, payment, PaymentStatus.CANCELLED, "cancelled by staff", actor_id)
    cancel_pending(db, session, "cancelled by staff")
    return service.stopped(session)
