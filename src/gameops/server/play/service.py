"""Self-service at the PC: log in (member or guest ticket), renew blocks, log out.

Each function runs in the caller's transaction. A logged-in session is an ordinary
``GameSession`` (ACTIVE, one per station by the database's partial index) whose time is
bought block by block: the first block at login, each next one a little before the current
one ends (:mod:`.renewals`); the session's end is always the end of the paid block, so the
expiry scheduler, the agent's countdown and its lock → grace → log-off path work unchanged
when the money runs out. The ``play_sessions`` row says how the current block was paid.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import (
    Login,
    LoginCode,
    LoginResult,
    PackageOffer,
    ReservedNotice,
    StationInfo,
    utc_now,
)
from gameops.server.auth.passwords import Passwords
from gameops.server.db.engine import Database
from gameops.server.db.models import (
    GameSession,
    GuestTicket,
    PlaySession,
    Reservation,
    Station,
    User,
)
from gameops.server.events.base import record
from gameops.server.payments import repository as payment_rows
from gameops.server.payments import service as payments
from gameops.server.payments.domain import PaymentPurpose
from gameops.server.payments.service import Charge
from gameops.server.play import domain, repository
from gameops.server.play.events import BlockCharged, PlayLoggedIn, PlayLoggedOut
from gameops.server.play.throttle import LoginThrottle
from gameops.server.pricing import domain as pricing_domain
from gameops.server.pricing import service as pricing
from gameops.server.reservations import domain as reservation_rules
from gameops.server.reservations import service as reservations
from gameops.server.reservations.domain import ReservationRules
from gameops.server.sessions import events as session_events
from gameops.server.sessions import service as sessions
from gameops.server.sessions.domain import SessionStatus
from gameops.server.settings import Settings
from gameops.server.stations import service as stations
from gameops.server.stations.domain import StationStatus, StationType, status_after_session
from gameops.server.stations.events import AgentTampered

LOGOUT = "logout"


@dataclass(frozen=True)
class PlayRules:
    """The venue's settings for self-service, and the secret ticket codes are hashed with."""

    block_seconds: int
    renew_lead_seconds: float
    min_balance: int
    currency: str
    venue_timezone: str
    venue_name: str
    ticket_secret: str
    ticket_valid_days: int
    reservations: ReservationRules

    @classmethod
    def from_settings(cls, settings: Settings) -> PlayRules:
        return cls(
            block_seconds=settings.play_block_seconds,
            renew_lead_seconds=settings.play_renew_lead_seconds,
            min_balance=settings.play_min_balance,
            currency=settings.currency,
            venue_timezone=settings.venue_timezone,
            venue_name=settings.venue_name,
            ticket_secret=settings.jwt_secret(),
            ticket_valid_days=settings.ticket_valid_days,
            reservations=reservations.rules_from_settings(settings),
        )


class Refused(Exception):
    """A login the customer is told no to; ``counts``: a failed guess (brute-force limit)."""

    def __init__(self, code: LoginCode, message: str, *, counts: bool = False) -> None:
        super().__init__(message)
        self.result = LoginResult(ok=False, code=code, message=message)
        self.counts = counts


# --- login -------------------------------------------------------------------------------


async def login(
    db: AsyncSession, desk: PlayDesk, station_id: uuid.UUID, attempt: Login
) -> LoginResult:
    rules, throttle = desk.rules, desk.throttle
    keys = _throttle_keys(station_id, attempt)
    if (wait := await throttle.retry_after(keys)) is not None:
        message = domain.throttled(wait)
        return LoginResult(ok=False, code="throttled", message=message, retry_after_seconds=wait)
    try:
        if attempt.ticket is not None:
            return await _ticket_login(db, rules, station_id, attempt.ticket)
        # The PIN is checked before this transaction touches the database: argon2 takes
        # tens of milliseconds (far more on a busy machine) and no connection waits on it.
        checked = await _check_secret(desk, attempt)
        return await _member_login(db, rules, checked, station_id, attempt)
    except Refused as refused:
        if refused.counts and await throttle.failed(keys):
            _record_burst(db, station_id, attempt)
        return refused.result


def _throttle_keys(station_id: uuid.UUID, attempt: Login) -> list[str]:
    keys = [f"station:{station_id}"]
    if attempt.ticket is None and attempt.username:
        keys.append(f"account:{attempt.username.strip().lower()}")
    return keys


def _record_burst(db: AsyncSession, station_id: uuid.UUID, attempt: Login) -> None:
    """Too many wrong guesses: an AGENT_TAMPER event on the floor (never the secret)."""
    what = "ticket codes" if attempt.ticket is not None else f"logins for {attempt.username!r}"
    record(
        db,
        AgentTampered(
            station_id=station_id,
            kind="login_burst",
            detail=f"too many wrong {what} at this station"[:1000],
            count=1,
            locks=False,
        ),
    )


@dataclass(frozen=True)
class _Checked:
    """A member whose secret verified; ``new_hash``: their PIN hashed again with the PIN
    setting, to store in place of ``old_hash`` (a PIN from before that setting)."""

    user_id: uuid.UUID
    old_hash: str
    new_hash: str | None = None


async def _check_secret(desk: PlayDesk, attempt: Login) -> _Checked:
    """The member whose PIN or password this is, read in a session of its own and checked
    with no connection held; refused (a counted guess) otherwise."""
    if not attempt.username or not attempt.secret:
        raise Refused("wrong_credentials", domain.WRONG_CREDENTIALS, counts=True)
    async with desk.database.sessionmaker() as db:
        user = await repository.member_by_login(db, attempt.username.strip())
    hashed = user.password_hash if user is not None else None
    passwords = desk.passwords
    if not await passwords.verify(attempt.secret, hashed, pin=True) or user is None:
        raise Refused("wrong_credentials", domain.WRONG_CREDENTIALS, counts=True)
    assert hashed is not None  # it verified
    if passwords.pin_outdated(attempt.secret, hashed):
        return _Checked(user.id, hashed, await passwords.hash_pin(attempt.secret))
    return _Checked(user.id, hashed)


async def _member_login(
    db: AsyncSession,
    rules: PlayRules,
    checked: _Checked,
    station_id: uuid.UUID,
    attempt: Login,
) -> LoginResult:
    user = await db.get(User, checked.user_id)
    if user is None:
        raise Refused("wrong_credentials", domain.WRONG_CREDENTIALS)
    if checked.new_hash is not None and user.password_hash == checked.old_hash:
        user.password_hash = checked.new_hash  # unless the PIN changed meanwhile
    if not user.is_active:
        raise Refused("account_disabled", domain.ACCOUNT_DISABLED)
    station = await _free_station(db, station_id)
    if (where := await repository.open_login_station(db, user_id=user.id)) is not None:
        raise Refused("already_logged_in", domain.already_logged_in(where))
    now = utc_now()
    booking = await _admit(db, rules, station.id, user.id, now)
    rate = await hourly_rate(db, rules, station, user.is_member, now)
    # A booking's deposit is credited against this play: it counts towards the minimum.
    deposit = reservations.creditable(booking) if booking is not None else 0
    balance = await payment_rows.lock_balance(db, user.id) + deposit
    block: domain.Block | None
    if attempt.package is not None:  # a package bought from the login view: the first block
        block = await _package_block(db, station, user.is_member, attempt.package)
        minimum = block.charge
    else:
        minimum = domain.minimum_balance(rules.min_balance, rate, rules.block_seconds)
        block = domain.next_block(balance, rate, rules.block_seconds)
    if balance < minimum or block is None:
        raise Refused("balance_too_low", domain.balance_too_low(balance, minimum, rules.currency))
    session, play = _open(rules, station, now, block, rate, user=user)
    await _insert(db, session, play, user_id=user.id)
    if booking is not None:  # credited only now that nothing can refuse the login
        await reservations.check_in(db, booking, user, session.id, now, rules.currency)
    charge = _charge(session, block, PaymentPurpose.SESSION_START, user.id)
    if block.charge > 0:
        await payments.pay_from_balance(db, user, charge)
    name = user.full_name or user.username
    return await _begin(db, rules, station, session, play, user, name)


async def _ticket_login(
    db: AsyncSession, rules: PlayRules, station_id: uuid.UUID, code: str
) -> LoginResult:
    hashed = domain.code_hash(code, rules.ticket_secret)
    ticket = await repository.ticket_by_hash(db, hashed, lock=True)
    now = utc_now()
    if ticket is None or ticket.voided_at is not None or ticket.expires_at <= now:
        raise Refused("ticket_invalid", domain.TICKET_INVALID, counts=True)
    station = await _free_station(db, station_id)
    await _admit(db, rules, station.id, None, now)  # a booked PC is its member's alone
    if (where := await repository.open_login_station(db, ticket_id=ticket.id)) is not None:
        raise Refused("already_logged_in", domain.ticket_in_use(where))
    rate = await hourly_rate(db, rules, station, False, now)
    block = _ticket_block(ticket, rate, rules.block_seconds)
    if block is None:
        raise Refused("ticket_used_up", domain.ticket_used_up(ticket.amount_left is not None))
    session, play = _open(rules, station, now, block, rate, ticket=ticket)
    await _insert(db, session, play, ticket_id=ticket.id)
    _spend(ticket, block)
    return await _begin(db, rules, station, session, play, None, "Guest", ticket)


async def _admit(
    db: AsyncSession,
    rules: PlayRules,
    station_id: uuid.UUID,
    user_id: uuid.UUID | None,
    now: datetime,
) -> Reservation | None:
    """The member's own booking of this PC, if it holds it now; refused if another's does."""
    try:
        return await reservations.admit(db, rules.reservations, station_id, user_id, now)
    except reservations.HeldForAnother as held:
        raise Refused("reserved", held.message) from held


def _ticket_block(ticket: GuestTicket, rate: int, block_seconds: int) -> domain.Block | None:
    """The next block on a ticket: its minutes, or what its amount buys at ``rate``."""
    if ticket.amount_left is not None:
        return domain.next_block(ticket.amount_left, rate, block_seconds)
    return domain.ticket_block(ticket.seconds_left, block_seconds)


def _spend(ticket: GuestTicket, block: domain.Block) -> None:
    if ticket.amount_left is not None:
        ticket.amount_left -= block.charge
    else:
        ticket.seconds_left -= block.seconds


async def _package_block(
    db: AsyncSession, station: Station, member: bool, name: str
) -> domain.Block:
    plan = await pricing.plan_for(db, station)
    for package in plan.packages:
        if package.name == name and package.available_to(member):
            return domain.Block(package.minutes * 60, package.price)
    raise Refused("package_unavailable", f"The package {name!r} is not sold here now")


async def _free_station(db: AsyncSession, station_id: uuid.UUID) -> Station:
    station = await stations.get_station(db, station_id, lock=True)
    if station.tamper_locked_at is not None or station.status is not StationStatus.ONLINE:
        raise Refused("station_busy", domain.STATION_BUSY)
    return station


def _open(
    rules: PlayRules,
    station: Station,
    now: datetime,
    block: domain.Block,
    rate: int,
    *,
    user: User | None = None,
    ticket: GuestTicket | None = None,
) -> tuple[GameSession, PlaySession]:
    ends = now + timedelta(seconds=block.seconds)
    session = GameSession(
        id=uuid.uuid4(),
        station_id=station.id,
        user_id=user.id if user else None,
        status=SessionStatus.ACTIVE,
        started_at=now,
        scheduled_end_at=ends,
        duration_minutes=domain.session_minutes(block.seconds),
        extended_minutes=0,
        amount_total=block.charge,
        currency=rules.currency,
        created_by=user.id if user else None,
    )
    session.user = user
    play = PlaySession(
        session_id=session.id,
        station_id=station.id,
        user_id=user.id if user else None,
        ticket_id=ticket.id if ticket else None,
        hourly_rate=rate,
        block_started_at=now,
        block_ends_at=ends,
        block_charge=block.charge,
        blocks=1,
    )
    return session, play


async def _insert(
    db: AsyncSession,
    session: GameSession,
    play: PlaySession,
    *,
    user_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
) -> None:
    """Both rows or neither: the partial unique indexes settle a race between two PCs (one
    member, or one ticket) and between two logins on one station."""
    try:
        async with db.begin_nested():
            db.add(session)
            await db.flush()
            db.add(play)
            await db.flush()
    except IntegrityError as err:
        where = await repository.open_login_station(db, user_id=user_id, ticket_id=ticket_id)
        if where is not None:
            raise Refused("already_logged_in", domain.already_logged_in(where)) from err
        raise Refused("station_busy", domain.STATION_BUSY) from err


async def _begin(
    db: AsyncSession,
    rules: PlayRules,
    station: Station,
    session: GameSession,
    play: PlaySession,
    user: User | None,
    name: str,
    ticket: GuestTicket | None = None,
) -> LoginResult:
    record(
        db,
        PlayLoggedIn(
            station_id=station.id,
            session_id=session.id,
            actor_id=user.id if user else None,
            user_id=user.id if user else None,
            ticket_id=ticket.id if ticket else None,
            name=name,
        ),
    )
    await sessions.begin(db, station, session, user.id if user else None)
    # The PC itself asked for this session: its paid time runs from the login, as the
    # blocks do (waiting for the agent to take it moved the start, not the blocks).
    sessions.start_clock(db, session)
    _block_charged(db, rules, play, user, ticket)
    return LoginResult(ok=True, code="ok", message=f"Welcome, {name}!", session_id=session.id)


def _block_charged(
    db: AsyncSession,
    rules: PlayRules,
    play: PlaySession,
    user: User | None,
    ticket: GuestTicket | None,
) -> None:
    time_ticket = ticket is not None and ticket.amount_left is None
    if ticket is not None:
        left = ticket.seconds_left if ticket.amount_left is None else ticket.amount_left
    else:
        left = user.balance if user else 0
    buys = left if time_ticket else domain.seconds_bought(left, play.hourly_rate)
    record(
        db,
        BlockCharged(
            station_id=play.station_id,
            session_id=play.session_id,
            user_id=play.user_id,
            ticket_id=play.ticket_id,
            block=play.blocks,
            seconds=round((play.block_ends_at - play.block_started_at).total_seconds()),
            charge=play.block_charge,
            hourly_rate=play.hourly_rate,
            block_ends_at=play.block_ends_at,
            balance=left,
            buys_seconds=buys,
            currency=rules.currency,
            balance_is_time=time_ticket,
        ),
    )


def _charge(
    session: GameSession, block: domain.Block, purpose: PaymentPurpose, actor: uuid.UUID | None
) -> Charge:
    minutes = domain.session_minutes(block.seconds)
    return Charge.for_session(session, block.charge, minutes, purpose, actor)


async def hourly_rate(
    db: AsyncSession, rules: PlayRules, station: Station, member: bool, at: datetime
) -> int:
    """The station's hourly rate in force at ``at`` (its plan's time-of-day rule, if any)."""
    plan = await pricing.plan_for(db, station)
    local = at.astimezone(ZoneInfo(rules.venue_timezone))
    rule = pricing_domain.rule_at(plan.rules, local)
    return (rule.rates if rule else plan.rates).hourly(member)


# --- renewal -----------------------------------------------------------------------------


async def renew(db: AsyncSession, rules: PlayRules, session_id: uuid.UUID) -> bool:
    """Charge the next block of a session whose block ends within the lead; False if it
    was not due (another worker renewed it) or nothing pays for it (it will run out)."""
    now = utc_now()
    # The session's row before the login's, as the expiry and a staff stop take them: in
    # the opposite order a renewal running late into its block's last moment deadlocks
    # with the expiry.
    session = await sessions.get_session(db, session_id, lock=True)
    play = await repository.open_play(db, session_id, lock=True)
    if play is None or not domain.renewal_due(play.block_ends_at, now, rules.renew_lead_seconds):
        return False
    if session.status is not SessionStatus.ACTIVE:
        return False
    station = await stations.get_station(db, session.station_id)
    user = await sessions.customer_of(db, session)
    ticket = await repository.get_ticket(db, play.ticket_id, lock=True) if play.ticket_id else None
    rate = await hourly_rate(db, rules, station, bool(user and user.is_member), play.block_ends_at)
    if ticket is not None:
        block = _ticket_block(ticket, rate, rules.block_seconds)
    elif user is not None:
        balance = await payment_rows.lock_balance(db, user.id)
        block = domain.next_block(balance, rate, rules.block_seconds)
    else:
        return False
    if block is None:
        return False
    if ticket is not None:
        _spend(ticket, block)
    elif user is not None and block.charge > 0:
        charge = _charge(session, block, PaymentPurpose.SESSION_EXTENSION, None)
        await payments.pay_from_balance(db, user, charge)
    _extend(db, session, play, block, rate)
    _block_charged(db, rules, play, user, ticket)
    return True


def _extend(
    db: AsyncSession, session: GameSession, play: PlaySession, block: domain.Block, rate: int
) -> None:
    play.block_started_at = play.block_ends_at  # blocks are back to back: no second lost
    play.block_ends_at = play.block_started_at + timedelta(seconds=block.seconds)
    play.block_charge, play.hourly_rate, play.blocks = block.charge, rate, play.blocks + 1
    minutes = domain.session_minutes(block.seconds)
    session.scheduled_end_at = play.block_ends_at
    session.extended_minutes += minutes
    session.amount_total += block.charge
    record(
        db,
        session_events.SessionExtended(
            **sessions.timing(session), actor_id=None, additional_minutes=minutes
        ),
    )


# --- logout and the end of a session ----------------------------------------------------


async def logout(db: AsyncSession, station_id: uuid.UUID, session_id: uuid.UUID) -> LoginResult:
    """The customer logs out: the session stops, the unused share of the block goes back
    (one ledger entry, or the seconds back on the ticket), the station locks."""
    session = await sessions.find_session(db, session_id, lock=True)  # first, as in renew
    play = await repository.open_play(db, session_id, lock=True) if session else None
    if session is None or play is None or play.station_id != station_id:
        return LoginResult(ok=False, code="not_logged_in", message="Not logged in here")
    station = await stations.get_station(db, station_id, lock=True)
    now = utc_now()
    on_ticket = play.ticket_id is not None
    refunded, returned = await close(db, play, session, now, LOGOUT)
    session.status, session.actual_end_at, session.end_reason = SessionStatus.STOPPED, now, LOGOUT
    idle = status_after_session(station.status, station.type, station.agent_connected)
    stations.set_status(db, station, idle, actor_id=session.user_id, reason=LOGOUT)
    record(
        db,
        session_events.SessionEnded(
            **sessions.timing(session),
            actor_id=session.user_id,
            ended_at=now,
            reason=LOGOUT,
            refunded=0 if on_ticket else refunded,  # to the balance
        ),
    )
    goodbye = _goodbye(refunded if on_ticket else 0, returned, session.currency)
    return LoginResult(ok=True, code="logged_out", message=goodbye, refunded=refunded)


async def close(
    db: AsyncSession, play: PlaySession, session: GameSession, now: datetime, reason: str
) -> tuple[int, int]:
    """End the login: refund the block's unused share to the member (one REFUND ledger
    entry) or give it back to the ticket (its seconds, or its share of the amount).
    Returns (money refunded, seconds returned)."""
    play.ended_at, play.end_reason = now, reason
    amount = domain.unused_refund(play.block_charge, play.block_started_at, play.block_ends_at, now)
    if play.ticket_id is not None:
        ticket = await repository.get_ticket(db, play.ticket_id, lock=True)
        seconds = domain.unused_seconds(play.block_started_at, play.block_ends_at, now)
        if ticket is not None and ticket.amount_total is not None:
            ticket.amount_left = min(ticket.amount_total, (ticket.amount_left or 0) + amount)
            seconds = 0
        elif ticket is not None:
            ticket.seconds_left = min(ticket.seconds_total, ticket.seconds_left + seconds)
            amount = 0
        _logged_out(db, play, amount, seconds)
        return amount, seconds
    customer = await sessions.customer_of(db, session)
    if customer is not None and amount > 0:
        minutes = domain.unused_seconds(play.block_started_at, play.block_ends_at, now) // 60
        charge = Charge.for_session(session, amount, minutes, PaymentPurpose.REFUND, customer.id)
        await payments.refund_amount(db, customer, charge, "unused play time, logged out")
    _logged_out(db, play, amount, 0)
    return amount, 0


def _logged_out(db: AsyncSession, play: PlaySession, refunded: int, seconds: int) -> None:
    record(
        db,
        PlayLoggedOut(
            station_id=play.station_id,
            session_id=play.session_id,
            actor_id=play.user_id,
            user_id=play.user_id,
            ticket_id=play.ticket_id,
            refunded=refunded,
            seconds_returned=seconds,
        ),
    )


def _goodbye(to_ticket: int, seconds: int, currency: str) -> str:
    if seconds:
        return f"Logged out. {domain.duration_text(seconds)} went back on your ticket."
    if to_ticket:
        return f"Logged out. {domain.money(to_ticket, currency)} went back on your ticket."
    return "Logged out. Thank you!"


# --- what the login view shows ------------------------------------------------------------


async def next_price_change(db: AsyncSession, rules: PlayRules, now: datetime) -> datetime:
    """The next moment after ``now`` at which any station's rate may change (a time-of-day
    rule's start or end in any plan, or the venue's midnight)."""
    every_rule = tuple(rule for plan in await pricing.all_plans(db) for rule in plan.rules)
    local = now.astimezone(ZoneInfo(rules.venue_timezone))
    return pricing_domain.next_change(every_rule, local).astimezone(now.tzinfo)


@dataclass(frozen=True)
class PlayDesk:
    """What the agent socket needs for self-service: the rules and the attempt limits."""

    rules: PlayRules
    throttle: LoginThrottle
    passwords: Passwords
    database: Database  # the PIN check reads in a session of its own
    # Logins in their transaction at once: the others queue here, not on the connection
    # pool, whose wait times out and which heartbeats and timers need too.
    turns: asyncio.Semaphore


async def station_info(
    db: AsyncSession, rules: PlayRules, station_id: uuid.UUID, at: datetime | None = None
) -> StationInfo:
    """What the login view shows: where this is, the prices in force ``at`` (now) and whom
    the PC is held for then (the worker's clock for a booking's notice)."""
    station = await stations.get_station(db, station_id)
    return (await station_infos(db, rules, [station], at))[station.id]


async def station_infos(
    db: AsyncSession, rules: PlayRules, rows: Sequence[Station], at: datetime | None = None
) -> dict[uuid.UUID, StationInfo]:
    """``station_info`` of many stations (the hellos of a reconnect storm), with a query
    for their plans and one for their bookings rather than a few each."""
    now = at or utc_now()
    plans = await pricing.plans_for(db, rows)
    held = await reservations.notices(db, rules.reservations, [row.id for row in rows], now)
    local = now.astimezone(ZoneInfo(rules.venue_timezone))
    return {
        row.id: _login_view(
            rules, row.name, plans[row.id], local, _reserved(rules, held.get(row.id))
        )
        for row in rows
    }


def _login_view(
    rules: PlayRules,
    name: str,
    plan: pricing_domain.PricePlan,
    local: datetime,
    reserved: ReservedNotice | None,
) -> StationInfo:
    rule = pricing_domain.rule_at(plan.rules, local)
    rates = rule.rates if rule else plan.rates
    per_hour = "{}/h".format
    lines = [
        f"Members {per_hour(domain.money(rates.member, rules.currency))}",
        f"Guests {per_hour(domain.money(rates.guest, rules.currency))}",
    ]
    if rule is not None:
        lines.append(f"Now: {rule.name}")
    offers = [
        PackageOffer(
            name=p.name,
            minutes=p.minutes,
            price=p.price,
            text=f"{p.name}: {domain.duration_text(p.minutes * 60)} for "
            f"{domain.money(p.price, rules.currency)}" + (" (members)" if p.members_only else ""),
        )
        for p in plan.packages
    ]
    return StationInfo(
        reserved=reserved,
        packages=offers,
        station_name=name,
        venue_name=rules.venue_name,
        currency=rules.currency,
        member_hourly_rate=rates.member,
        guest_hourly_rate=rates.guest,
        lines=lines,
    )


async def has_login_view(db: AsyncSession, station_id: uuid.UUID) -> bool:
    """A PC (an agent and its login view); a console has neither."""
    station = await stations.get_station(db, station_id)
    return station.type is StationType.PC


def _reserved(rules: PlayRules, held: tuple[str, Reservation] | None) -> ReservedNotice | None:
    if held is None:
        return None
    name, booking = held
    text = reservation_rules.notice_text(name, booking.starts_at, rules.venue_timezone)
    return ReservedNotice(
        name=name[:64], starts_at=booking.starts_at, ends_at=booking.ends_at, text=text[:120]
    )
