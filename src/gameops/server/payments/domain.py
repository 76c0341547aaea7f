"""Payment states and the rules that need no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PaymentMethod(StrEnum):
    CASH = "CASH"
    BALANCE = "BALANCE"
    CARD = "CARD"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class PaymentPurpose(StrEnum):
    SESSION_START = "SESSION_START"
    SESSION_EXTENSION = "SESSION_EXTENSION"
    TOPUP = "TOPUP"
    # Money going back to a customer (early stop, a void): to the balance (method BALANCE)
    # or from the till (CASH). Never income; subtracted from revenue.
    REFUND = "REFUND"
    GUEST_TICKET = "GUEST_TICKET"  # play time sold at the desk, used at the PCs with a code
    # Snacks and drinks sold at the desk (the small POS in ``shop``).
    SHOP_SALE = "SHOP_SALE"


class IntentStatus(StrEnum):
    """The gateway's view of a card payment (Stripe's PaymentIntent statuses)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class Intent:
    id: str
    status: IntentStatus
    amount: int
    currency: str
    client_secret: str
    latest_charge: str | None = None
    failure_message: str | None = None


class CardOutcome(StrEnum):
    PAID = "PAID"
    FAILED = "FAILED"
    WAITING = "WAITING"


def card_outcome(intent: Intent) -> CardOutcome:
    """What an intent means for our payment: paid, failed for good, or not yet decided.

    A declined card leaves Stripe's intent in ``requires_payment_method`` with an error; we
    treat that as failed, so staff start over instead of leaving a station reserved."""
    if intent.status is IntentStatus.SUCCEEDED:
        return CardOutcome.PAID
    if intent.status is IntentStatus.CANCELED or intent.failure_message is not None:
        return CardOutcome.FAILED
    return CardOutcome.WAITING


def transaction_reference(intent: Intent) -> str:
    return intent.latest_charge or intent.id


@dataclass(frozen=True)
class Refusal:
    """A payment that failed and was recorded as FAILED: the request answers with an error
    status, but the transaction commits so the failure stays on record."""

    status_code: int
    detail: str
    payment_id: str
    extra: dict[str, object]

    def body(self) -> dict[str, object]:
        return {"detail": self.detail, "payment_id": self.payment_id, **self.extra}
