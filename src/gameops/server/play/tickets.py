"""Guest tickets: sold at the desk for N minutes or an amount (the code shown once, only its
HMAC kept), voided by staff, used at the PCs through :func:`gameops.server.play.service.login`."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import GuestTicket, User
from gameops.server.errors import Conflict, NotFound
from gameops.server.events.base import record
from gameops.server.payments import service as payments
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus
from gameops.server.payments.service import Charge
from gameops.server.play import domain, repository
from gameops.server.play.events import TicketSold, TicketVoided
from gameops.server.play.schemas import TicketCreate, TicketPublic, TicketSale
from gameops.server.play.service import PlayRules


async def sell(db: AsyncSession, rules: PlayRules, body: TicketCreate, staff: User) -> TicketSale:
    code = domain.new_ticket_code()
    seconds = (body.minutes or 0) * 60  # an amount ticket has no seconds of its own
    ticket = GuestTicket(
        id=uuid.uuid4(),
        code_hash=domain.code_hash(code, rules.ticket_secret),
        hint=domain.ticket_hint(code),
        seconds_total=seconds,
        seconds_left=seconds,
        amount_total=body.amount,
        amount_left=body.amount,
        price=body.price,
        currency=rules.currency,
        expires_at=utc_now() + timedelta(days=rules.ticket_valid_days),
        created_by=staff.id,
    )
    if body.price > 0:
        charge = Charge(
            amount=body.price,
            currency=rules.currency,
            minutes=body.minutes or 0,
            purpose=PaymentPurpose.GUEST_TICKET,
            actor_id=staff.id,
        )
        payment = payments.record_payment(db, charge, PaymentMethod.CASH, PaymentStatus.COMPLETED)
        ticket.payment_id = payment.id
    db.add(ticket)
    await db.flush()
    record(
        db,
        TicketSold(
            actor_id=staff.id,
            ticket_id=ticket.id,
            seconds=seconds,
            amount=body.amount,
            price=body.price,
            hint=ticket.hint,
        ),
    )
    public = TicketPublic.model_validate(ticket).model_dump()
    return TicketSale(**public, code=code)


async def void(db: AsyncSession, ticket_id: uuid.UUID, staff: User) -> TicketPublic:
    """No more play on it; a PC using it now finishes its current block."""
    ticket = await repository.get_ticket(db, ticket_id, lock=True)
    if ticket is None:
        raise NotFound("Ticket not found")
    if ticket.voided_at is not None:
        raise Conflict("Ticket already voided")
    ticket.voided_at, ticket.voided_by = utc_now(), staff.id
    left, ticket.seconds_left = ticket.seconds_left, 0
    amount_left = ticket.amount_left
    if ticket.amount_left is not None:
        ticket.amount_left = 0
    record(
        db,
        TicketVoided(
            actor_id=staff.id, ticket_id=ticket.id, seconds_left=left, amount_left=amount_left
        ),
    )
    return TicketPublic.model_validate(ticket)
