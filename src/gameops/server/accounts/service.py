"""Customers and their prepaid balance.

The balance moves only through :func:`credit` and :func:`debit`: each writes one immutable
ledger row, updates the cached balance with a single UPDATE and records the event, all in
the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gameops.server.accounts import repository
from gameops.server.accounts.domain import LedgerKind, check_positive
from gameops.server.accounts.events import BalanceMoved
from gameops.server.accounts.schemas import CustomerCreate, CustomerUpdate
from gameops.server.auth.passwords import Passwords
from gameops.server.db.models import LedgerEntry, User
from gameops.server.errors import BadRequest, Conflict, NotFound
from gameops.server.events.base import record
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.users.domain import Role
from gameops.server.users.events import UserTokensRevoked


@dataclass(frozen=True)
class Movement:
    """Why a balance moved and what it belongs to; copied onto the ledger row and event."""

    currency: str
    reason: str = ""
    actor_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    station_id: uuid.UUID | None = None


class InsufficientBalance(BadRequest):
    def __init__(self, balance: int, price: int) -> None:
        super().__init__("Insufficient balance", balance=balance, price=price)
        self.balance = balance
        self.price = price


async def credit(
    db: AsyncSession, customer: User, amount: int, kind: LedgerKind, movement: Movement
) -> LedgerEntry:
    check_positive(amount)
    balance = await repository.add_to_balance(db, customer.id, amount)
    return _write(db, customer, amount, balance, kind, movement)


async def debit(
    db: AsyncSession, customer: User, amount: int, kind: LedgerKind, movement: Movement
) -> LedgerEntry:
    """Take ``amount``; raises :class:`InsufficientBalance` (and changes nothing) if short."""
    check_positive(amount)
    balance = await repository.take_from_balance(db, customer.id, amount)
    if balance is None:
        raise InsufficientBalance(await repository.current_balance(db, customer.id), amount)
    return _write(db, customer, -amount, balance, kind, movement)


async def adjust(db: AsyncSession, customer: User, amount: int, movement: Movement) -> LedgerEntry:
    """A manual correction by an admin: positive adds, negative takes (never below zero)."""
    if amount == 0:
        raise BadRequest("amount must not be zero")
    if amount > 0:
        return await credit(db, customer, amount, LedgerKind.ADJUSTMENT, movement)
    return await debit(db, customer, -amount, LedgerKind.ADJUSTMENT, movement)


def _write(
    db: AsyncSession,
    customer: User,
    signed_amount: int,
    balance: int,
    kind: LedgerKind,
    movement: Movement,
) -> LedgerEntry:
    # The UPDATE bypassed the ORM; keep the loaded object truthful without writing again.
    set_committed_value(customer, "balance", balance)
    entry = LedgerEntry(
        user_id=customer.id,
        kind=kind,
        amount=signed_amount,
        balance_after=balance,
        currency=movement.currency,
        reason=movement.reason,
        payment_id=movement.payment_id,
        session_id=movement.session_id,
        created_by=movement.actor_id,
    )
    db.add(entry)
    record(
        db,
        BalanceMoved(
            station_id=movement.station_id,
            session_id=movement.session_id,
            actor_id=movement.actor_id,
            user_id=customer.id,
            kind=kind,
            amount=signed_amount,
            balance_after=balance,
            currency=movement.currency,
            reason=movement.reason,
            payment_id=movement.payment_id,
        ),
    )
    return entry


async def get_customer(db: AsyncSession, user_id: uuid.UUID) -> User:
    customer = await repository.get_customer(db, user_id)
    if customer is None:
        raise NotFound("Customer not found")
    return customer


async def create_customer(
    db: AsyncSession, passwords: Passwords, data: CustomerCreate, actor_id: uuid.UUID
) -> User:
    customer = User(
        role=Role.CUSTOMER,
        password_hash=await _secret_hash(passwords, data.password, data.pin),
        balance=0,
        **data.model_dump(exclude={"password", "pin"}),
    )
    db.add(customer)
    try:
        await db.flush()
    except IntegrityError as err:
        raise Conflict(f"Username {data.username!r} is taken") from err
    record_event(
        db,
        EventType.USER_CREATED,
        actor_id=actor_id,
        data={"user_id": str(customer.id), "username": customer.username, "role": "CUSTOMER"},
    )
    return customer


async def _secret_hash(passwords: Passwords, password: str | None, pin: str | None) -> str | None:
    """The customer's one secret: a password wins over a PIN (cheaper to check, see
    ``auth.passwords``) when both are given."""
    if password:
        return await passwords.hash(password)
    return await passwords.hash_pin(pin) if pin else None


async def update_customer(
    db: AsyncSession,
    passwords: Passwords,
    customer: User,
    data: CustomerUpdate,
    actor_id: uuid.UUID,
) -> User:
    changes = data.model_dump(exclude_unset=True, exclude={"password", "pin"})
    secret = data.password or data.pin  # a PIN (self-service) or a password: one secret
    if secret is not None or changes.get("is_active", customer.is_active) is False:
        customer.token_version += 1  # every token issued before stops working
        record(db, UserTokensRevoked(user_id=customer.id, actor_id=actor_id, reason="changed"))
    for name, value in changes.items():
        setattr(customer, name, value)
    if secret is not None:
        customer.password_hash = await _secret_hash(passwords, data.password, data.pin)
        changes["password"] = "changed"
    record_event(
        db,
        EventType.USER_UPDATED,
        actor_id=actor_id,
        data={"user_id": str(customer.id), **{k: str(v) for k, v in changes.items()}},
    )
    return customer
