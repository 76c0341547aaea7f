from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, computed_field

from gameops.protocol import utc_now
from gameops.server.payments.domain import PaymentMethod
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.pricing.schemas import QuotePublic
from gameops.server.schemas import Count, Schema
from gameops.server.sessions.domain import RefundWay, SessionStatus, seconds_left

if TYPE_CHECKING:
    from gameops.server.db.models import GameSession


class SessionStartRequest(BaseModel):
    station_id: uuid.UUID
    duration_minutes: Count = Field(description="paid minutes, 1 up to the configured maximum")
    user_id: uuid.UUID | None = None
    payment_method: PaymentMethod = PaymentMethod.CASH
    override_reservation_id: uuid.UUID | None = Field(
        default=None,
        description="staff confirm selling at a station held for another customer's booking "
        "(the id the 409 named): that booking is released",
    )
    keep_deposit: bool = Field(
        default=False, description="with override_reservation_id: the venue keeps its deposit"
    )


class SessionExtendRequest(BaseModel):
    additional_minutes: Count
    payment_method: PaymentMethod = PaymentMethod.CASH


class SessionPublic(Schema):
    id: uuid.UUID
    station_id: uuid.UUID
    user_id: uuid.UUID | None
    status: SessionStatus
    started_at: datetime
    scheduled_end_at: datetime
    actual_end_at: datetime | None
    duration_minutes: int
    extended_minutes: int
    amount_total: int
    currency: str
    end_reason: str | None
    created_at: datetime
    waiting_since: datetime | None = Field(
        default=None, description="a PC that has not taken the session yet: its time waits"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remaining_seconds(self) -> int:
        if self.status is not SessionStatus.ACTIVE:
            return 0
        if self.waiting_since is not None:
            return (self.duration_minutes + self.extended_minutes) * 60
        return int(seconds_left(self.scheduled_end_at, utc_now()))


class SessionRow(SessionPublic):
    """A session as the sessions list shows it: with its customer and how it was paid."""

    customer_name: str | None = Field(description="full name, else username; null: walk-in")
    payment_methods: list[PaymentMethod] = Field(
        description="methods of its completed payments (sale and extensions), first used first"
    )

    @classmethod
    def of(cls, session: GameSession, methods: list[PaymentMethod]) -> SessionRow:
        """``session`` with its ``user`` loaded."""
        customer = session.user
        name = (customer.full_name or customer.username) if customer else None
        public = SessionPublic.model_validate(session).model_dump(exclude={"remaining_seconds"})
        return cls(**public, customer_name=name, payment_methods=methods)


class SessionCharged(SessionPublic):
    """A session with the payment just taken for it, and what staff should know."""

    payment: PaymentPublic
    pricing: QuotePublic | None = Field(default=None, description="how the price was reached")
    agent_connected: bool | None = Field(
        description="PCs only: whether the agent is connected now; if not, it picks the "
        "session up when it reconnects"
    )
    warnings: list[str] = Field(default_factory=list)


class SessionCardPending(BaseModel):
    """A card sale waiting for the card: pay with ``client_secret``, then confirm."""

    payment_id: uuid.UUID
    client_secret: str
    payment: PaymentPublic
    session: SessionPublic


class SessionStopped(SessionPublic):
    refunded: int = Field(default=0, description="unused paid time given back")
    refund_way: RefundWay = Field(
        default=RefundWay.NONE, description="how: none, to the balance, or cash from the till"
    )
    refund_reason: str = ""


class StopPreview(BaseModel):
    """What stopping now would give back, before staff confirm the stop."""

    session_id: uuid.UUID
    paid: int
    currency: str
    unused_seconds: int
    refund: int
    refund_way: RefundWay
    explanation: str
    needs_open_shift: bool = Field(
        default=False, description="cash back needs an open shift and none is open: open one"
    )
