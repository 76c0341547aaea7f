"""ORM models, one module per domain, all importable from here. Relationships are
``lazy="raise"``: in async code a hidden lazy load must fail loudly, not block."""

from gameops.server.db.models.accounts import LedgerEntry
from gameops.server.db.models.auth import RefreshToken
from gameops.server.db.models.base import Base
from gameops.server.db.models.commands import StationCommandRecord
from gameops.server.db.models.devices import PowerSample
from gameops.server.db.models.events import Event
from gameops.server.db.models.idempotency import IdempotencyRecord
from gameops.server.db.models.outbox import OutboxMessage
from gameops.server.db.models.payments import Payment
from gameops.server.db.models.play import GuestTicket, PlaySession
from gameops.server.db.models.pricing import RatePlan
from gameops.server.db.models.receipts import Receipt, ReceiptCounter
from gameops.server.db.models.reservations import Reservation
from gameops.server.db.models.sessions import GameSession
from gameops.server.db.models.shifts import Shift, ShiftCorrection
from gameops.server.db.models.shop import Product, ShopSaleLine
from gameops.server.db.models.stations import AgentCommand, AgentToken, Station
from gameops.server.db.models.users import User

__all__ = [
    "AgentCommand",
    "AgentToken",
    "Base",
    "Event",
    "GameSession",
    "GuestTicket",
    "IdempotencyRecord",
    "LedgerEntry",
    "OutboxMessage",
    "Payment",
    "PlaySession",
    "PowerSample",
    "Product",
    "RatePlan",
    "Receipt",
    "ReceiptCounter",
    "RefreshToken",
    "Reservation",
    "Shift",
    "ShiftCorrection",
    "ShopSaleLine",
    "Station",
    "StationCommandRecord",
    "User",
]
