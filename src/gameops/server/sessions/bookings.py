"""A desk sale at a station a booking holds (issue 12 §2). Reservations sit above sessions,
so sessions ask through this small interface and the composition root passes the
reservations' implementation in (``reservations.desk.DeskBookings``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Station, User


@dataclass(frozen=True)
class Hold:
    """The booking holding a station at the moment of a sale."""

    reservation_id: uuid.UUID
    member_id: uuid.UUID
    credit: int  # the deposit a sale to the member credits to their balance first


@dataclass(frozen=True)
class Override:
    """Staff confirmed selling at a held station to someone else: the booking they saw is
    released, its deposit refunded unless they keep it."""

    reservation_id: uuid.UUID
    keep_deposit: bool = False


class BookingGate(Protocol):
    async def check_sale(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        override: Override | None,
        now: datetime,
    ) -> Hold | None:
        """The booking holding ``station`` (row locked) now, if any. Raises ``Conflict``
        (409 "Reserved for Ada at 18:00", with the booking's id) when it is another
        customer's and ``override`` does not name it."""
        ...

    async def clash(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        until: datetime,
        now: datetime,
    ) -> str | None:
        """A warning for a sale not held back now whose time runs into another customer's
        booking of the station ("PC-03 is booked for Ada from 18:00: ..."), if it does."""
        ...

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
        """After the sale's session exists: the member's booking is checked in (its deposit
        credited), another's is released as ``override`` says."""
        ...


class NoBookings:
    """A venue without reservations (and tests of selling alone): nothing is ever held."""

    async def check_sale(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        override: Override | None,
        now: datetime,
    ) -> Hold | None:
        return None

    async def clash(
        self,
        db: AsyncSession,
        station: Station,
        customer_id: uuid.UUID | None,
        until: datetime,
        now: datetime,
    ) -> str | None:
        return None

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
        raise AssertionError("no booking holds a station here")
