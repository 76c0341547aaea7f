"""Recording what was paid, by cash, from a prepaid balance or by card.

Every payment row is written with its event (PAYMENT_CREATED, PAYMENT_COMPLETED or
PAYMENT_FAILED) in the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.accounts import service as accounts
from gameops.server.accounts.domain import LedgerKind
from gameops.server.db.models import GameSession, Payment, User
from gameops.server.events.base import record
from gameops.server.payments import repository
from gameops.server.payments.domain import (
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Refusal,
)
from gameops.server.payments.events import PaymentChanged


@dataclass(frozen=True)
class Charge:
    """What is being paid for: the amount and minutes, and who and what it concerns."""

    amount: int
    currency: str
    minutes: int
    purpose: PaymentPurpose
    actor_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    station_id: uuid.UUID | None = None

    @classmethod
    def for_session(
        cls,
        session: GameSession,
        amount: int,
        minutes: int,
        purpose: PaymentPurpose,
        actor_id: uuid.UUID | None,
    ) -> Charge:
        return cls(
            amount=amount,
            currency=session.currency,
            minutes=minutes,
            purpose=purpose,
            actor_id=actor_id,
            user_id=session.user_id,
            session_id=session.id,
            station_id=session.station_id,
        )


def record_payment(
    db: AsyncSession, charge: Charge, method: PaymentMethod, status: PaymentStatus
) -> Payment:
    payment = Payment(
        id=uuid.uuid4(),
        session_id=charge.session_id,
        user_id=charge.user_id,
        amount=charge.amount,
        currency=charge.currency,
        method=method,
        status=status,
        purpose=charge.purpose,
        minutes=charge.minutes,
        created_by=charge.actor_id,
        completed_at=utc_now() if status is PaymentStatus.COMPLETED else None,
    )
    db.add(payment)
    _record(db, payment, charge.station_id, charge.actor_id)
    return payment


def set_status(
    db: AsyncSession,
    payment: Payment,
    status: PaymentStatus,
    *,
    station_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    failure_reason: str | None = None,
) -> None:
    payment.status = status
    payment.failure_reason = failure_reason
    if status is PaymentStatus.COMPLETED:
        payment.completed_at = utc_now()
    _record(db, payment, station_id, actor_id)


def _record(
    db: AsyncSession, payment: Payment, station_id: uuid.UUID | None, actor_id: uuid.UUID | None
) -> None:
    record(
        db,
        PaymentChanged(
            station_id=station_id,
            session_id=payment.session_id,
            actor_id=actor_id,
            payment_id=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            method=payment.method,
            purpose=payment.purpose,
            status=payment.status,
            user_id=payment.user_id,
            failure_reason=payment.failure_reason,
        ),
    )


def take_cash(
    db: AsyncSession,
    session: GameSession,
    amount: int,
    minutes: int,
    purpose: PaymentPurpose,
    actor_id: uuid.UUID | None,
) -> Payment:
    charge = Charge.for_session(session, amount, minutes, purpose, actor_id)
    return record_payment(db, charge, PaymentMethod.CASH, PaymentStatus.COMPLETED)


async def refuse_if_short(db: AsyncSession, customer: User, charge: Charge) -> Refusal | None:
    """Lock the customer's row and check the balance covers ``charge``. If not, record the
    payment FAILED and return the refusal the client gets; nothing else must be written."""
    balance = await repository.lock_balance(db, customer.id)
    if balance >= charge.amount:
        return None
    payment = record_payment(db, charge, PaymentMethod.BALANCE, PaymentStatus.FAILED)
    payment.failure_reason = "Insufficient balance"
    return Refusal(
        400,
        "Insufficient balance",
        str(payment.id),
        {"balance": balance, "price": charge.amount, "currency": charge.currency},
    )


async def pay_from_balance(db: AsyncSession, customer: User, charge: Charge) -> Payment:
    """Debit the balance; raises ``InsufficientBalance`` (rolling everything back) if short,
    which :func:`refuse_if_short` under the same row lock has already ruled out."""
    payment = record_payment(db, charge, PaymentMethod.BALANCE, PaymentStatus.COMPLETED)
    movement = accounts.Movement(
        currency=charge.currency,
        reason=charge.purpose.value.lower().replace("_", " "),
        actor_id=charge.actor_id,
        payment_id=payment.id,
        session_id=charge.session_id,
        station_id=charge.station_id,
    )
    await accounts.debit(db, customer, charge.amount, LedgerKind.DEBIT, movement)
    return payment


async def take_topup(
    db: AsyncSession, customer: User, charge: Charge, method: PaymentMethod
) -> Payment:
    """A top-up paid now (cash): the payment and the credit in one go."""
    payment = record_payment(db, charge, method, PaymentStatus.COMPLETED)
    await credit_topup(db, customer, payment, charge.actor_id)
    return payment


async def credit_topup(
    db: AsyncSession, customer: User, payment: Payment, actor_id: uuid.UUID | None
) -> None:
    movement = accounts.Movement(
        currency=payment.currency,
        reason=f"top-up by {payment.method.value.lower()}",
        actor_id=actor_id,
        payment_id=payment.id,
    )
    await accounts.credit(db, customer, payment.amount, LedgerKind.TOPUP, movement)


async def refund_to_balance(
    db: AsyncSession, customer: User, paid: Payment, reason: str, actor_id: uuid.UUID | None
) -> Payment:
    """Give ``paid.amount`` back to the customer's balance, as a REFUND payment row (so
    reports can net it out) with its ledger entry."""
    charge = Charge(
        amount=paid.amount,
        currency=paid.currency,
        minutes=0,
        purpose=PaymentPurpose.REFUND,
        actor_id=actor_id,
        user_id=customer.id,
        session_id=paid.session_id,
    )
    return await refund_amount(db, customer, charge, reason)


async def refund_amount(db: AsyncSession, customer: User, charge: Charge, reason: str) -> Payment:
    refund = record_payment(db, charge, PaymentMethod.BALANCE, PaymentStatus.COMPLETED)
    movement = accounts.Movement(
        currency=charge.currency,
        reason=reason,
        actor_id=charge.actor_id,
        payment_id=refund.id,
        session_id=charge.session_id,
        station_id=charge.station_id,
    )
    await accounts.credit(db, customer, charge.amount, LedgerKind.REFUND, movement)
    return refund
