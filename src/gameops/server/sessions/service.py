"""Selling, extending, stopping and expiring time on a station (flows 1-4 and 6 of the
design): paid by cash, from a balance, or by card (what happens once the card has decided
is in ``card_sales``, which shares the public building blocks here: ``begin``,
``apply_extension``, ``flush_one_active``, ``charged``).

Each function runs inside one transaction and only changes state: the session, its payment
and the station's status, and the domain events it records (``sessions/events.py``), commit
together or not at all. Station control and the expiry scheduler react to those events.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.accounts.domain import check_amount
from gameops.server.db.models import GameSession, Payment, Station, User
from gameops.server.errors import (
    BadRequest,
    Conflict,
    NotFound,
    Unprocessable,
)
from gameops.server.events.base import record
from gameops.server.payments import card
from gameops.server.payments import service as payments
from gameops.server.payments.domain import (
    Intent,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Refusal,
)
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.payments.service import Charge
from gameops.server.pricing import service as pricing
from gameops.server.pricing.domain import Quote
from gameops.server.pricing.schemas import QuotePublic
from gameops.server.sessions import repository
from gameops.server.sessions.bookings import BookingGate, Hold, NoBookings, Override
from gameops.server.sessions.domain import (
    CLOCK_SLACK,
    EndReason,
    RefundWay,
    SessionStatus,
    StopRefund,
    check_duration,
    check_extension,
    scheduled_end,
    stop_refund,
)
from gameops.server.sessions.events import (
    SessionClockStarted,
    SessionEnded,
    SessionExpired,
    SessionExtended,
    SessionMoved,
    SessionStarted,
)
from gameops.server.sessions.schemas import (
    SessionCardPending,
    SessionCharged,
    SessionExtendRequest,
    SessionPublic,
    SessionStartRequest,
    SessionStopped,
    StopPreview,
)
from gameops.server.settings import Settings
from gameops.server.shifts import repository as shifts
from gameops.server.shifts.service import NO_SHIFT
from gameops.server.stations import repository as stations_repository
from gameops.server.stations import service as stations
from gameops.server.stations.domain import (
    StationStatus,
    StationType,
    ensure_sellable,
    status_after_session,
)

START, EXTENSION = PaymentPurpose.SESSION_START, PaymentPurpose.SESSION_EXTENSION
# What selling time ends in: the paid session, a card sale waiting for the card, or a
# refusal that was recorded (its FAILED payment commits; the answer is an error).
Sale = SessionCharged | SessionCardPending | Refusal
OFFLINE_WARNING = "The PC is offline: the paid time starts when it connects and takes the session."


async def start_session(
    settings: Settings,
    db: AsyncSession,
    request: SessionStartRequest,
    actor: User,
    gateway: PaymentGateway | None = None,
    bookings: BookingGate | None = None,
) -> Sale:
    """Sell time at the desk. At a station a booking holds, only its member is sold to
    (their booking checked in, the deposit credited first) unless staff override it."""
    check_duration(request.duration_minutes, settings.max_session_minutes)
    station = await stations.get_station(db, request.station_id, lock=True)
    ensure_sellable(station.status, tamper_locked=station.tamper_locked_at is not None)
    await _ensure_not_held(db, station.id)
    customer = await _customer(db, request.user_id)
    desk = _DeskSale(bookings or NoBookings(), _override(request), actor, utc_now())
    await desk.check(db, station, request.user_id)
    session = _new_session(settings, station, customer, request.duration_minutes, actor)
    quote = await _quote(settings, db, station, customer, session.duration_minutes, desk.now)
    session.amount_total = quote.amount
    charge = Charge.for_session(session, quote.amount, session.duration_minutes, START, actor.id)
    # The member's deposit comes back to the balance first, so it counts towards the price.
    short = replace(charge, amount=max(0, charge.amount - desk.credit))
    refusal = await _refuse_if_unpaid(db, request.payment_method, customer, short, gateway)
    if refusal is not None:
        return refusal
    if request.payment_method is PaymentMethod.CARD:
        pending = await _hold_for_card(db, card.require_gateway(gateway), session, charge)
        await desk.settle(db, customer, session.id)
        return pending
    # What ``begin`` sets, set before the INSERT (not an UPDATE after it).
    _wait_for_agent(station, session, session.started_at)
    db.add(session)
    await flush_one_active(db)
    await desk.settle(db, customer, session.id)
    payment = await _collect(db, request.payment_method, customer, charge)
    await begin(db, station, session, actor.id, now=session.started_at)
    await db.flush()  # fills server-side defaults the response shows
    sale = charged(session, payment, station, _quote_public(settings, quote))
    until = desk.now + timedelta(minutes=session.duration_minutes)
    sale.warnings += await desk.clash(db, station, customer, until)
    return sale


@dataclass
class _DeskSale:
    """A sale's dealings with the booking that holds its station, if any."""

    bookings: BookingGate
    override: Override | None
    actor: User
    now: datetime
    hold: Hold | None = None
    credit: int = 0  # the member's deposit, credited before the sale is charged

    async def check(
        self, db: AsyncSession, station: Station, customer_id: uuid.UUID | None
    ) -> None:
        self.hold = await self.bookings.check_sale(
            db, station, customer_id, self.override, self.now
        )
        if self.hold is not None and self.hold.member_id == customer_id:
            self.credit = self.hold.credit

    async def settle(self, db: AsyncSession, customer: User | None, session_id: uuid.UUID) -> None:
        if self.hold is not None:
            await self.bookings.settle_sale(
                db, self.hold, customer, session_id, self.actor, self.override, self.now
            )

    async def clash(
        self, db: AsyncSession, station: Station, customer: User | None, until: datetime
    ) -> list[str]:
        """A warning when time sold until ``until`` runs into another customer's booking."""
        if self.hold is not None:
            return []
        customer_id = customer.id if customer else None
        warning = await self.bookings.clash(db, station, customer_id, until, self.now)
        return [warning] if warning else []


def _override(request: SessionStartRequest) -> Override | None:
    return override_of(request.override_reservation_id, request.keep_deposit)


def override_of(reservation_id: uuid.UUID | None, keep_deposit: bool) -> Override | None:
    return None if reservation_id is None else Override(reservation_id, keep_deposit)


async def extend_session(
    settings: Settings,
    db: AsyncSession,
    session_id: uuid.UUID,
    request: SessionExtendRequest,
    actor: User,
    gateway: PaymentGateway | None = None,
    bookings: BookingGate | None = None,
) -> Sale:
    minutes = request.additional_minutes
    session = await get_session(db, session_id, lock=True)
    status = session.status
    if status is SessionStatus.ACTIVE and session.scheduled_end_at <= utc_now():
        status = SessionStatus.EXPIRED  # due: its expiry is being processed right now
    check_extension(status, session.booked_minutes, minutes, settings.max_session_minutes)
    station = await stations.get_station(db, session.station_id, lock=True)
    customer = await customer_of(db, session)
    quote = await _quote(settings, db, station, customer, minutes, session.scheduled_end_at)
    charge = Charge.for_session(session, quote.amount, minutes, EXTENSION, actor.id)
    refusal = await _refuse_if_unpaid(db, request.payment_method, customer, charge, gateway)
    if refusal is not None:
        return refusal
    if request.payment_method is PaymentMethod.CARD:
        payment, intent = await card.open_card_payment(db, card.require_gateway(gateway), charge)
        await db.flush()
        return _card_pending(session, payment, intent)
    payment = await _collect(db, request.payment_method, customer, charge)
    await apply_extension(db, station, session, payment, actor.id)
    await db.flush()
    sale = charged(session, payment, station, _quote_public(settings, quote))
    desk = _DeskSale(bookings or NoBookings(), None, actor, utc_now())
    sale.warnings += await desk.clash(db, station, customer, session.scheduled_end_at)
    return sale


async def apply_extension(
    db: AsyncSession,
    station: Station,
    session: GameSession,
    payment: Payment,
    actor_id: uuid.UUID | None,
) -> None:
    session.extended_minutes += payment.minutes
    session.scheduled_end_at += timedelta(minutes=payment.minutes)
    session.amount_total += payment.amount
    record(
        db,
        SessionExtended(**timing(session), actor_id=actor_id, additional_minutes=payment.minutes),
    )


def _new_session(
    settings: Settings, station: Station, customer: User | None, minutes: int, actor: User
) -> GameSession:
    now = utc_now()
    session = GameSession(
        id=uuid.uuid4(),
        station_id=station.id,
        user_id=customer.id if customer else None,
        status=SessionStatus.ACTIVE,
        started_at=now,
        scheduled_end_at=scheduled_end(now, minutes),
        duration_minutes=minutes,
        extended_minutes=0,
        amount_total=0,
        currency=settings.currency,
        created_by=actor.id,
    )
    session.user = customer
    return session


async def _refuse_if_unpaid(
    db: AsyncSession,
    method: PaymentMethod,
    customer: User | None,
    charge: Charge,
    gateway: PaymentGateway | None,
) -> Refusal | None:
    """Checks that need no writes come first, so a refused sale leaves only its FAILED
    payment behind (recorded without the session, which is never created)."""
    if method is PaymentMethod.CASH:
        return None
    if method is PaymentMethod.CARD:
        card.require_gateway(gateway)
        return None
    if customer is None:
        raise Unprocessable("Paying from a balance needs a customer: give user_id")
    return await payments.refuse_if_short(db, customer, replace(charge, session_id=None))


async def _hold_for_card(
    db: AsyncSession, gateway: PaymentGateway, session: GameSession, charge: Charge
) -> SessionCardPending:
    """Book the station for a card sale: the session waits in PENDING_PAYMENT (time does
    not run) until the card is paid, or is cancelled when the wait runs out."""
    session.status = SessionStatus.PENDING_PAYMENT
    db.add(session)
    await db.flush()
    payment, intent = await card.open_card_payment(db, gateway, charge)
    await db.flush()
    return _card_pending(session, payment, intent)


def _card_pending(session: GameSession, payment: Payment, intent: Intent) -> SessionCardPending:
    return SessionCardPending(
        payment_id=payment.id,
        client_secret=intent.client_secret,
        payment=PaymentPublic.model_validate(payment),
        session=SessionPublic.model_validate(session),
    )


async def _collect(
    db: AsyncSession, method: PaymentMethod, customer: User | None, charge: Charge
) -> Payment:
    if method is PaymentMethod.BALANCE and customer is not None:
        return await payments.pay_from_balance(db, customer, charge)
    return payments.record_payment(db, charge, PaymentMethod.CASH, PaymentStatus.COMPLETED)


async def begin(
    db: AsyncSession,
    station: Station,
    session: GameSession,
    actor_id: uuid.UUID | None,
    *,
    now: datetime | None = None,
) -> None:
    """The session is paid: the station is taken and told to start. A PC's clock waits
    for its agent to take the session (:func:`start_clock`); a console's runs at once."""
    stations.set_status(db, station, StationStatus.IN_SESSION, actor_id=actor_id, reason="session")
    _wait_for_agent(station, session, now or utc_now())
    record(
        db,
        SessionStarted(
            **timing(session),
            actor_id=actor_id,
            duration_minutes=session.duration_minutes,
            customer_name=customer_name(session),
            waiting_for_agent=session.waiting_since is not None,
            customer_id=session.user_id,
        ),
    )


def _wait_for_agent(station: Station, session: GameSession, now: datetime) -> None:
    session.waiting_since = now if station.type is StationType.PC else None
    session.start_overdue_at = None


def start_clock(db: AsyncSession, session: GameSession) -> bool:
    """The PC's agent has the session: its paid time runs from now, for all it booked.
    Taken within ``CLOCK_SLACK`` of the sale (the PC was on), the sale's times stand, as the
    agent was told. Returns True if the end moved (the agent must be told the new one)."""
    assert session.waiting_since is not None
    now = utc_now()
    waited = now - session.waiting_since
    session.waiting_since = None
    moved = waited > CLOCK_SLACK
    if moved:
        session.started_at = now
        session.scheduled_end_at = scheduled_end(now, session.booked_minutes)
    record(
        db,
        SessionClockStarted(
            **timing(session), waited_seconds=int(waited.total_seconds()), restarted=moved
        ),
    )
    return moved


async def move_session(
    db: AsyncSession,
    session_id: uuid.UUID,
    station_id: uuid.UUID,
    actor: User,
    bookings: BookingGate | None = None,
    override: Override | None = None,
) -> GameSession:
    """Move a sale its PC never took to another PC, at the price paid; it waits there
    for that PC's agent in turn. A PC a booking holds takes it as a sale there would."""
    session = await _waiting(db, session_id, "moved")
    if station_id == session.station_id:
        raise BadRequest("The session is already on this station")
    # Lock both stations in id order, so two moves cannot deadlock.
    first, second = sorted([session.station_id, station_id])
    locked = {s: await stations.get_station(db, s, lock=True) for s in (first, second)}
    old, new = locked[session.station_id], locked[station_id]
    if new.type is not StationType.PC:
        raise Unprocessable("A sale can be moved to another PC only")
    ensure_sellable(new.status, tamper_locked=new.tamper_locked_at is not None)
    await _ensure_not_held(db, new.id)
    desk = _DeskSale(bookings or NoBookings(), override, actor, utc_now())
    await desk.check(db, new, session.user_id)
    _release_station(db, old, actor.id)
    session.user = await _customer(db, session.user_id)  # the new PC greets them by name
    session.station_id = new.id
    await flush_one_active(db)
    await desk.settle(db, session.user, session.id)
    record(db, SessionMoved(**timing(session), actor_id=actor.id, from_station_id=old.id))
    await begin(db, new, session, actor.id)
    return session


async def void_session(
    settings: Settings, db: AsyncSession, session_id: uuid.UUID, actor: User
) -> SessionStopped:
    """Give back a sale its PC never took, whole and in one step: each payment goes back
    the way it came (cash from the till, balance to the balance; a card to the balance)."""
    session = await _waiting(db, session_id, "refunded")
    station = await stations.get_station(db, session.station_id, lock=True)
    refunded, methods = await _give_back_payments(db, session, actor.id)
    _stop(session, EndReason.VOIDED)
    session.waiting_since = None
    _release_station(db, station, actor.id)
    _record_stop(db, session, actor.id, EndReason.VOIDED, refunded)
    way = RefundWay.CASH if methods == {PaymentMethod.CASH} else RefundWay.BALANCE
    return stopped(
        session,
        refunded=refunded,
        refund_way=way if refunded else RefundWay.NONE,
        refund_reason="The PC never took the session: everything paid goes back.",
    )


async def _waiting(db: AsyncSession, session_id: uuid.UUID, what: str) -> GameSession:
    session = await get_session(db, session_id, lock=True)
    if session.status is not SessionStatus.ACTIVE or session.waiting_since is None:
        raise Conflict(f"Only a sale its PC has not taken yet can be {what}")
    return session


async def _give_back_payments(
    db: AsyncSession, session: GameSession, actor_id: uuid.UUID
) -> tuple[int, set[PaymentMethod]]:
    paid = await repository.completed_payments(db, session.id)
    customer = await _customer(db, session.user_id)
    if customer is None and any(p.method is PaymentMethod.CARD for p in paid):
        raise Conflict(
            "A guest's card payment cannot be given back here: refund it at the card terminal"
        )
    total = 0
    for payment in paid:
        charge = Charge.for_session(
            session, payment.amount, payment.minutes, PaymentPurpose.REFUND, actor_id
        )
        if payment.method is PaymentMethod.CASH:
            payments.record_payment(db, charge, PaymentMethod.CASH, PaymentStatus.COMPLETED)
        else:
            assert customer is not None
            await payments.refund_amount(db, customer, charge, "a sale the PC never took")
        total += payment.amount
    return total, {p.method for p in paid}


async def _ensure_not_held(db: AsyncSession, station_id: uuid.UUID) -> None:
    # The station row is locked (FOR UPDATE) by now, so no other sale can slip in between.
    if await repository.pending_on_station(db, station_id) is not None:
        raise Conflict("Station is held for a card payment in progress")


async def stop_session(
    settings: Settings, db: AsyncSession, session_id: uuid.UUID, actor: User
) -> SessionStopped:
    session = await get_session(db, session_id, lock=True)
    if session.status is not SessionStatus.ACTIVE:
        raise BadRequest("Session already ended")
    station = await stations.get_station(db, session.station_id, lock=True)
    _stop(session, EndReason.MANUAL_STOP)
    _release_station(db, station, actor.id)
    refund = await _refund_unused(settings, db, session, actor.id)
    _record_stop(db, session, actor.id, EndReason.MANUAL_STOP, refund.amount)
    return stopped(
        session, refunded=refund.amount, refund_way=refund.way, refund_reason=refund.reason
    )


def _stop(session: GameSession, reason: EndReason) -> None:
    session.status = SessionStatus.STOPPED
    session.actual_end_at = utc_now()
    session.end_reason = reason.value


def _record_stop(
    db: AsyncSession, session: GameSession, actor_id: uuid.UUID, reason: EndReason, refunded: int
) -> None:
    assert session.actual_end_at is not None  # _stop() set it
    record(
        db,
        SessionEnded(
            **timing(session),
            actor_id=actor_id,
            ended_at=session.actual_end_at,
            reason=reason.value,
            refunded=refunded,
        ),
    )


def stopped(session: GameSession, **refund: object) -> SessionStopped:
    """The answer to staff ending a session: it as it is now, and ``refunded``,
    ``refund_way`` and ``refund_reason`` when something went back."""
    public = SessionPublic.model_validate(session).model_dump(exclude={"remaining_seconds"})
    return SessionStopped.model_validate({**public, **refund})


def refund_plan(settings: Settings, session: GameSession, at: datetime) -> StopRefund:
    """What stopping ``session`` at ``at`` gives back (the stop dialog shows it first)."""
    return stop_refund(
        settings.stop_refund_mode,
        session.amount_total,
        session.started_at,
        session.scheduled_end_at,
        at,
        has_customer=session.user_id is not None,
    )


async def preview_stop(settings: Settings, db: AsyncSession, session_id: uuid.UUID) -> StopPreview:
    session = await get_session(db, session_id)
    if session.status is not SessionStatus.ACTIVE:
        raise BadRequest("Session already ended")
    plan = refund_plan(settings, session, utc_now())
    explanation = plan.reason
    blocked = plan.way is RefundWay.CASH and plan.amount > 0 and settings.require_open_shift
    if blocked and await shifts.open_shift(db) is None:
        explanation = f"{plan.reason} {NO_SHIFT}."
    else:
        blocked = False
    return StopPreview(
        session_id=session.id,
        paid=session.amount_total,
        currency=session.currency,
        unused_seconds=plan.unused_seconds,
        refund=plan.amount,
        refund_way=plan.way,
        explanation=explanation,
        needs_open_shift=blocked,
    )


async def _refund_unused(
    settings: Settings, db: AsyncSession, session: GameSession, actor_id: uuid.UUID
) -> StopRefund:
    """Give back the unused share of what was paid, the way the venue's ``stop_refund``
    says: to the customer's balance or in cash from the till (which needs an open shift)."""
    assert session.actual_end_at is not None
    plan = refund_plan(settings, session, session.actual_end_at)
    if plan.amount <= 0:
        return plan
    minutes = plan.unused_seconds // 60
    charge = Charge.for_session(session, plan.amount, minutes, PaymentPurpose.REFUND, actor_id)
    if plan.way is RefundWay.CASH:
        payments.record_payment(db, charge, PaymentMethod.CASH, PaymentStatus.COMPLETED)
        return plan
    customer = await _customer(db, session.user_id)
    assert customer is not None  # balance refunds are planned for customers only
    await payments.refund_amount(db, customer, charge, "unused time after an early stop")
    return plan


async def expire_due(db: AsyncSession, session_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Expire those of ``session_ids`` that are due, in one transaction; the ones expired.
    A session that is not due, or that another worker got, is left alone."""
    expired = await repository.claim_expiries(db, session_ids, utc_now())
    if not expired:
        return set()
    held = await stations_repository.lock_many(db, {session.station_id for session in expired})
    for session in expired:
        _release_station(db, held[session.station_id], actor_id=None)
        assert session.actual_end_at is not None  # set by the claim
        record(
            db,
            SessionExpired(
                **timing(session), ended_at=session.actual_end_at, reason=EndReason.EXPIRED.value
            ),
        )
    return {session.id for session in expired}


async def get_session(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> GameSession:
    session = await find_session(db, session_id, lock=lock)
    if session is None:
        raise NotFound("Session not found")
    return session


async def find_session(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> GameSession | None:
    return await repository.get(db, session_id, lock=lock)


def _release_station(db: AsyncSession, station: Station, actor_id: uuid.UUID | None) -> None:
    idle = status_after_session(station.status, station.type, station.agent_connected)
    stations.set_status(db, station, idle, actor_id=actor_id, reason="session ended")


async def customer_of(db: AsyncSession, session: GameSession) -> User | None:
    return await _customer(db, session.user_id)


async def _quote(
    settings: Settings,
    db: AsyncSession,
    station: Station,
    customer: User | None,
    minutes: int,
    starts_at: datetime,
) -> Quote:
    venue_timezone = settings.venue_timezone
    quote = await pricing.quote_for(
        db, station, customer, minutes, starts_at, venue_timezone, time_tax(settings)
    )
    check_amount(quote.amount, settings.max_amount, "the price")
    return quote


def time_tax(settings: Settings) -> tuple[int, bool]:
    """Play time's tax rate and whether its prices include it."""
    return settings.tax_rate_bp, settings.prices_include_tax


def _quote_public(settings: Settings, quote: Quote) -> QuotePublic:
    return pricing.quote_public(quote, settings.currency)


async def _customer(db: AsyncSession, user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def flush_one_active(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as err:
        # The partial unique index: another request sold this station a moment ago.
        raise Conflict("Station is busy") from err


def timing(session: GameSession) -> dict[str, Any]:
    """The fields every session event carries: where, and its time and money after the change."""
    return {
        "session_id": session.id,
        "station_id": session.station_id,
        "started_at": session.started_at,
        "scheduled_end_at": session.scheduled_end_at,
        "booked_minutes": session.booked_minutes,
        "amount_total": session.amount_total,
    }


def customer_name(session: GameSession) -> str | None:
    """The name the station greets; the customer must be loaded (relationships never lazy-load)."""
    user = session.user
    return (user.full_name or user.username) if user is not None else None


def charged(
    session: GameSession, payment: Payment, station: Station, quote: QuotePublic | None = None
) -> SessionCharged:
    is_pc = station.type is StationType.PC
    return SessionCharged.model_validate(
        {
            **SessionPublic.model_validate(session).model_dump(exclude={"remaining_seconds"}),
            "payment": PaymentPublic.model_validate(payment),
            "pricing": quote,
            "agent_connected": station.agent_connected if is_pc else None,
            "warnings": [OFFLINE_WARNING] if is_pc and not station.agent_connected else [],
        }
    )
