from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import (
    GameSession,
    LedgerEntry,
    Payment,
    Receipt,
    Reservation,
    Station,
    User,
)
from gameops.server.payments.domain import PaymentStatus
from gameops.server.reports.domain import PaymentRow
from gameops.server.reservations.domain import DepositOutcome


async def completed_payments(
    db: AsyncSession, since: datetime, until: datetime
) -> Sequence[PaymentRow]:
    """COMPLETED payments with ``since <= completed_at < until``, with their station's and
    their operator's names."""
    query = (
        select(
            Payment.amount,
            Payment.method,
            Payment.purpose,
            Payment.completed_at,
            Station.name,
            Payment.created_by,
            User.username,
        )
        .outerjoin(GameSession, Payment.session_id == GameSession.id)
        .outerjoin(Station, GameSession.station_id == Station.id)
        .outerjoin(User, Payment.created_by == User.id)
        .where(
            Payment.status == PaymentStatus.COMPLETED,
            Payment.completed_at >= since,
            Payment.completed_at < until,
        )
        .order_by(Payment.completed_at, Payment.id)
    )
    return [
        PaymentRow(
            amount=row.amount,
            method=row.method,
            purpose=row.purpose,
            completed_at=row.completed_at or since,  # never None: filtered above
            station=row.name,
            operator_id=row.created_by,
            operator=row.username,
        )
        for row in await db.execute(query)
    ]


async def liability_at(db: AsyncSession, moment: datetime) -> int:
    """What customers held at ``moment``: each balance's last ledger entry before it."""
    last = (
        select(func.max(LedgerEntry.id))
        .where(LedgerEntry.created_at < moment)
        .group_by(LedgerEntry.user_id)
    )
    total = await db.scalar(
        select(func.coalesce(func.sum(LedgerEntry.balance_after), 0)).where(
            LedgerEntry.id.in_(last)
        )
    )
    return int(total or 0)


async def receipt_taxes(db: AsyncSession, since: datetime, until: datetime) -> list[dict[str, int]]:
    """The tax lines of every receipt issued in ``[since, until)``."""
    query = select(Receipt.taxes).where(Receipt.issued_at >= since, Receipt.issued_at < until)
    return [line for taxes in await db.scalars(query) for line in taxes]


def _deposit_settled_at() -> ColumnElement[datetime | None]:
    """When a booking's deposit stopped being held: at check-in (credited to the balance),
    or when the booking was closed (refunded or kept); NULL while it is held."""
    return case(
        (Reservation.deposit_outcome == DepositOutcome.CREDITED, Reservation.checked_in_at),
        else_=Reservation.closed_at,
    )


async def held_deposits_at(db: AsyncSession, moment: datetime) -> int:
    """Booking deposits taken from balances before ``moment`` and not yet settled then:
    still the customers' money, outside their balances."""
    settled = _deposit_settled_at()
    total = await db.scalar(
        select(func.coalesce(func.sum(Reservation.deposit), 0)).where(
            Reservation.deposit > 0,
            Reservation.deposit_outcome != DepositOutcome.NONE,
            Reservation.created_at < moment,
            (settled.is_(None)) | (settled >= moment),
        )
    )
    return int(total or 0)


async def kept_deposits(db: AsyncSession, since: datetime, until: datetime) -> int:
    """Deposits the venue kept (no-shows, or staff keeping one) with the booking closed in
    ``[since, until)``."""
    total = await db.scalar(
        select(func.coalesce(func.sum(Reservation.deposit), 0)).where(
            Reservation.deposit_outcome == DepositOutcome.KEPT,
            Reservation.closed_at >= since,
            Reservation.closed_at < until,
        )
    )
    return int(total or 0)
