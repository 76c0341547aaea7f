"""What self-service play records: logins, logouts, each block charged, tickets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gameops.server.events.base import AuditLine, DomainEvent
from gameops.server.events.domain import EventType


class PlayLoggedIn(DomainEvent, frozen=True, kw_only=True):
    user_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    name: str

    def audit(self) -> AuditLine:
        return AuditLine(EventType.PLAY_LOGIN, _who(self.user_id, self.ticket_id, self.name))


class PlayLoggedOut(DomainEvent, frozen=True, kw_only=True):
    user_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    refunded: int
    seconds_returned: int

    def audit(self) -> AuditLine:
        data = _who(self.user_id, self.ticket_id, None)
        data |= {"refunded": self.refunded, "seconds_returned": self.seconds_returned}
        return AuditLine(EventType.PLAY_LOGOUT, data)


class BlockCharged(DomainEvent, frozen=True, kw_only=True):
    """A block was paid (at login or renewal): the station hears what is left."""

    user_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    block: int  # 1 for the first
    seconds: int
    charge: int
    hourly_rate: int
    block_ends_at: datetime
    balance: int  # what is left after it: minor units, or a time ticket's seconds
    buys_seconds: int
    currency: str
    balance_is_time: bool = False  # a time ticket's: ``balance`` counts seconds

    def audit(self) -> AuditLine:
        data = _who(self.user_id, self.ticket_id, None)
        data |= {
            "block": self.block,
            "seconds": self.seconds,
            "charge": self.charge,
            "hourly_rate": self.hourly_rate,
            "block_ends_at": self.block_ends_at.isoformat(),
        }
        return AuditLine(EventType.PLAY_BLOCK_CHARGED, data)


class TicketSold(DomainEvent, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    seconds: int
    price: int
    hint: str
    amount: int | None = None  # an amount ticket's value (its seconds are 0)

    def audit(self) -> AuditLine:
        data: dict[str, Any] = {"ticket_id": str(self.ticket_id), "minutes": self.seconds // 60}
        if self.amount is not None:
            data["value"] = self.amount
        return AuditLine(EventType.TICKET_SOLD, data | {"price": self.price, "hint": self.hint})


class TicketVoided(DomainEvent, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    seconds_left: int
    amount_left: int | None = None

    def audit(self) -> AuditLine:
        data: dict[str, Any] = {"ticket_id": str(self.ticket_id), "seconds_left": self.seconds_left}
        if self.amount_left is not None:
            data["amount_left"] = self.amount_left
        return AuditLine(EventType.TICKET_VOIDED, data)


def _who(
    user_id: uuid.UUID | None, ticket_id: uuid.UUID | None, name: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"user_id": str(user_id)} if user_id else {"ticket_id": str(ticket_id)}
    return data | ({"name": name} if name else {})
