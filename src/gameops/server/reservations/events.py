"""What reservations record: each booking, cancel, check-in and no-show (audit lines, the
dashboard's feed), and the moment a PC starts to be held (the PC's login view hears it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType
from gameops.server.reservations.domain import DepositOutcome


class ReservationEvent(DomainEvent, frozen=True, kw_only=True):
    reservation_id: uuid.UUID
    user_id: uuid.UUID
    customer_name: str
    starts_at: datetime
    ends_at: datetime

    def _data(self, **more: Any) -> dict[str, Any]:
        return {
            "reservation_id": str(self.reservation_id),
            "user_id": str(self.user_id),
            "customer_name": self.customer_name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            **more,
        }


class ReservationBooked(ReservationEvent, frozen=True, kw_only=True):
    deposit: int
    zone: str | None  # "any PC in" this zone: the server picked ``station_id``

    def audit(self) -> AuditLine:
        data = self._data(deposit=self.deposit, zone=self.zone)
        return AuditLine(EventType.RESERVATION_BOOKED, data)


class ReservationCancelled(ReservationEvent, frozen=True, kw_only=True):
    deposit: int
    outcome: DepositOutcome
    by_staff: bool

    def audit(self) -> AuditLine:
        data = self._data(deposit=self.deposit, outcome=self.outcome.value, by_staff=self.by_staff)
        return AuditLine(EventType.RESERVATION_CANCELLED, data)


class ReservationCheckedIn(ReservationEvent, frozen=True, kw_only=True):
    credited: int  # the deposit, credited against play

    def audit(self) -> AuditLine:
        return AuditLine(EventType.RESERVATION_CHECKED_IN, self._data(credited=self.credited))


class ReservationReleased(ReservationEvent, frozen=True, kw_only=True):
    """Nobody came: the PC is free again; the deposit kept or refunded (``outcome``)."""

    deposit: int
    outcome: DepositOutcome

    def audit(self) -> AuditLine:
        data = self._data(deposit=self.deposit, outcome=self.outcome.value)
        return AuditLine(EventType.RESERVATION_NO_SHOW, data)


class ReservationOverridden(ReservationEvent, frozen=True, kw_only=True):
    """Staff sold the held station to someone else at the desk (``session_id``): the
    booking is released, its deposit refunded or kept (``outcome``)."""

    deposit: int
    outcome: DepositOutcome
    sold_to: str  # the customer sold to, or "a guest"

    def audit(self) -> AuditLine:
        data = self._data(deposit=self.deposit, outcome=self.outcome.value, sold_to=self.sold_to)
        return AuditLine(EventType.RESERVATION_OVERRIDDEN, data)


class ReservationMoved(ReservationEvent, frozen=True, kw_only=True):
    """The booking moved to another time and/or station (``station_id``, ``starts_at``,
    ``ends_at`` are the new ones); the deposit stays as it was."""

    from_station_id: uuid.UUID
    from_starts_at: datetime
    from_ends_at: datetime
    by_staff: bool

    def audit(self) -> AuditLine:
        data = self._data(
            from_station_id=str(self.from_station_id),
            from_starts_at=self.from_starts_at.isoformat(),
            from_ends_at=self.from_ends_at.isoformat(),
            by_staff=self.by_staff,
        )
        return AuditLine(EventType.RESERVATION_MOVED, data)


class ReservationHeld(ReservationEvent, frozen=True, kw_only=True):
    """The notice window opened: the PC is held for the member from now (no audit line)."""

    held_at: datetime
