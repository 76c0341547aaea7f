"""Card sales once the card has decided (flow 6): the held session starts, the
extension is applied, or the sale is called off. Money that arrives for time that can no
longer be given is never lost: it goes to the customer's balance, or staff are told."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gameops.protocol import utc_now
from gameops.server.db.models import GameSession, Payment
from gameops.server.events.base import record
from gameops.server.payments import service as payments
from gameops.server.payments.domain import Refusal
from gameops.server.sessions import service
from gameops.server.sessions.domain import SessionStatus, scheduled_end
from gameops.server.sessions.events import SessionCancelled
from gameops.server.sessions.schemas import SessionCharged
from gameops.server.stations import service as stations


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
