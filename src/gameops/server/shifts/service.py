"""Opening and closing the till's shift, and the handover report. Every payment joins the
open shift as it completes (:class:`ShiftTill`, an in-transaction handler); cash without an
open shift is refused when the venue requires one (the default)."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import Payment, Shift, ShiftCorrection, User
from gameops.server.errors import Conflict, NotFound
from gameops.server.events.base import record
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.payments.domain import PaymentMethod, PaymentStatus
from gameops.server.payments.events import PaymentChanged
from gameops.server.settings import Settings
from gameops.server.shifts import repository
from gameops.server.shifts.domain import ShiftStatus, count_total, handover
from gameops.server.shifts.events import ShiftClosed, ShiftCorrected, ShiftOpened
from gameops.server.shifts.schemas import (
    CorrectionCreate,
    CorrectionPublic,
    Count,
    HandoverReport,
    ShiftClose,
    ShiftOpen,
    ShiftPublic,
)

NO_SHIFT = "No shift is open: open a shift with a counted float before taking or paying out cash"


class ShiftTill:
    """Puts each completed payment in the open shift; refuses cash when none is open."""

    def __init__(self, settings: Settings) -> None:
        self._required = settings.require_open_shift

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.handle(PaymentChanged, self.on_payment)

    async def on_payment(self, db: AsyncSession, event: PaymentChanged) -> None:
        if event.status is not PaymentStatus.COMPLETED:
            return
        shift = await repository.open_shift(db, lock=True, shared=True)
        if shift is None:
            if event.method is PaymentMethod.CASH and self._required:
                raise Conflict(NO_SHIFT)
            return
        payment = await db.get(Payment, event.payment_id)
        if payment is not None:
            payment.shift_id = shift.id


async def open_shift(settings: Settings, db: AsyncSession, body: ShiftOpen, actor: User) -> Shift:
    current = await repository.open_shift(db, lock=True)
    if current is not None:
        raise Conflict("A shift is already open: close it (with a count) before opening another")
    shift = Shift(
        id=uuid.uuid4(),
        status=ShiftStatus.OPEN,
        opened_at=utc_now(),
        opened_by=actor.id,
        opening_float=count_total(body.count, settings.cash_denominations),
        opening_count=_stored(body.count),
        note=body.note,
    )
    db.add(shift)
    try:
        await db.flush()
    except IntegrityError as err:  # the partial unique index: opened a moment ago
        raise Conflict("A shift is already open") from err
    record(db, ShiftOpened(actor_id=actor.id, shift_id=shift.id, opening_float=shift.opening_float))
    return shift


async def current_shift(db: AsyncSession) -> Shift:
    shift = await repository.open_shift(db)
    if shift is None:
        raise NotFound("No shift is open")
    return shift


async def close_shift(
    settings: Settings, db: AsyncSession, shift_id: uuid.UUID, body: ShiftClose, actor: User
) -> Shift:
    """Count the drawer and lock the shift: expected, counted and variance never change."""
    shift = await get_shift(db, shift_id, lock=True)
    if shift.status is ShiftStatus.CLOSED:
        raise Conflict("This shift is closed; record a correction instead")
    figures = handover(shift.opening_float, await repository.payments_of(db, shift.id))
    counted = count_total(body.count, settings.cash_denominations)
    shift.status = ShiftStatus.CLOSED
    shift.closed_at = utc_now()
    shift.closed_by = actor.id
    shift.closing_count = _stored(body.count)
    shift.counted_cash = counted
    shift.expected_cash = figures.expected_cash
    shift.variance = counted - figures.expected_cash
    shift.note = "\n".join(n for n in (shift.note, body.note) if n)
    record(
        db,
        ShiftClosed(
            actor_id=actor.id,
            shift_id=shift.id,
            expected_cash=figures.expected_cash,
            counted_cash=counted,
            variance=shift.variance,
        ),
    )
    return shift


async def correct(
    db: AsyncSession, shift_id: uuid.UUID, body: CorrectionCreate, actor: User
) -> ShiftCorrection:
    shift = await get_shift(db, shift_id, lock=True)
    if shift.status is not ShiftStatus.CLOSED:
        raise Conflict("The shift is still open: its count at the close settles it")
    if body.amount == 0:
        raise Conflict("A correction needs an amount")
    correction = ShiftCorrection(
        shift_id=shift.id, amount=body.amount, reason=body.reason, created_by=actor.id
    )
    db.add(correction)
    await db.flush()
    record(
        db,
        ShiftCorrected(
            actor_id=actor.id, shift_id=shift.id, amount=body.amount, reason=body.reason
        ),
    )
    return correction


async def get_shift(db: AsyncSession, shift_id: uuid.UUID, *, lock: bool = False) -> Shift:
    shift = await repository.get(db, shift_id, lock=lock)
    if shift is None:
        raise NotFound("Shift not found")
    return shift


async def report(settings: Settings, db: AsyncSession, shift_id: uuid.UUID) -> HandoverReport:
    shift = await get_shift(db, shift_id)
    figures = handover(shift.opening_float, await repository.payments_of(db, shift.id))
    corrections = await repository.corrections_of(db, shift.id)
    corrected = None
    if shift.variance is not None:
        corrected = shift.variance + sum(c.amount for c in corrections)
    return HandoverReport(
        currency=settings.currency,
        shift=ShiftPublic.model_validate(shift),
        opened_by=await repository.username(db, shift.opened_by),
        closed_by=await repository.username(db, shift.closed_by),
        operators=await repository.operators_of(db, shift.id),
        payments=figures.payments,
        sales=figures.sales,
        shop_sales=figures.shop_sales,
        topups=figures.topups,
        refunds=figures.refunds,
        voids=await repository.voids_of(db, shift.id),
        cash_in=figures.cash_in,
        cash_out=figures.cash_out,
        expected_cash=shift.expected_cash
        if shift.expected_cash is not None
        else figures.expected_cash,
        counted_cash=shift.counted_cash,
        variance=shift.variance,
        opening_count=shift.opening_count,
        closing_count=shift.closing_count,
        corrections=[CorrectionPublic.model_validate(c) for c in corrections],
        corrected_variance=corrected,
        denominations=sorted(settings.cash_denominations, reverse=True),
    )


def _stored(count: Count) -> dict[str, int]:
    return {str(denomination): pieces for denomination, pieces in count.items() if pieces}
