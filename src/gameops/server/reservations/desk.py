"""Desk sales at a held station (issue 12 §2): sessions' ``BookingGate``, implemented here
and passed to the sale by the composition root. While a booking holds a station (from the
notice before its start), staff sell there to its member only: the booking is checked in
and the deposit credited, as at a PC's login view. Selling to anyone else is a 409 naming
the booking, unless staff confirm the override: the booking is then released (refunded,
or the deposit kept), with its own audit line."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.accounts import service as accounts
from gameops.server.db.models import Station, User
from gameops.server.errors import Conflict
from gameops.server.reservations import domain, repository, service
from gameops.server.reservations.domain import DepositOutcome, ReservationRules, ReservationStatus
from gameops.server.sessions.bookings import Hold, Override


class DeskBookings:
    def __init__(self, rules: ReservationRules) -> None:
        self._rules = rules

    async def check_sale(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        override: Override | None,
        now: datetime,
    ) -> Hold | None:
        held = await repository.holding(db, station.id, now, self._rules.notice)
        if held is None:
            return None
        booking = await repository.get(db, held.id, lock=True)  # the station is locked first
        assert booking is not None
        if booking.user_id == customer_id:
            return Hold(booking.id, booking.user_id, service.creditable(booking))
        if override is not None and override.reservation_id == booking.id:
            return Hold(booking.id, booking.user_id, 0)
        member = await accounts.get_customer(db, booking.user_id)
        name = domain.display_name(member.full_name, member.username)
        raise Conflict(
            domain.notice_text(name, booking.starts_at, self._rules.venue_timezone),
            reservation_id=str(booking.id),
            customer_name=member.full_name or member.username,
            station_name=station.name,
            starts_at=booking.starts_at.isoformat(),
            ends_at=booking.ends_at.isoformat(),
            deposit=booking.deposit if booking.deposit_outcome is DepositOutcome.HELD else 0,
        )

    async def clash(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        until: datetime,
        now: datetime,
    ) -> str | None:
        booking = await repository.next_booked(db, station.id, now, until)
        if booking is None or booking.user_id == customer_id:
            return None
        member = await accounts.get_customer(db, booking.user_id)
        name = domain.display_name(member.full_name, member.username)
        when = domain.local_clock(booking.starts_at, self._rules.venue_timezone)
        return f"{station.name} is booked for {name} from {when}: this session runs into it."

    async def settle_sale(
        self,
        db: AsyncSession,
        hold: Hold,
        customer: User | None,
        session_id: uuid.UUID,
        actor: User,
        override: Override | None,
        now: datetime,
    ) -> None:
        booking = await repository.get(db, hold.reservation_id, lock=True)
        assert booking is not None
        assert booking.status is ReservationStatus.BOOKED
        member = await accounts.get_customer(db, booking.user_id)
        currency = self._rules.currency
        if customer is not None and customer.id == booking.user_id:
            await service.check_in(db, booking, member, session_id, now, currency, actor.id)
            return
        assert override is not None
        assert override.reservation_id == booking.id
        sold_to = (customer.full_name or customer.username) if customer else "a guest"
        await service.release_at_desk(
            db,
            self._rules,
            booking,
            member,
            (sold_to, session_id),
            override.keep_deposit,
            actor.id,
            now,
        )
