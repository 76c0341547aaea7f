"""Pay-as-you-go rules and guest ticket codes. Pure: no I/O, no clock; every input explicit.

A member plays from their balance in *blocks*: each block is charged at its start at the
station's rate then in force, so the balance never goes negative and a crash loses at most
one block's accounting. A block the balance cannot fully pay is shortened to what it buys;
when it buys nothing, the session runs out at the end of the current block. Logging out
refunds the unused share of the current block, pro rata, rounded down.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

SECONDS_PER_HOUR = 3600
TICKET_CODE_BITS = 60  # 12 base32 characters; the issue asks for at least 40
TICKET_GROUP = 4
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648: no 0, 1, 8 or 9
_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@dataclass(frozen=True)
class Block:
    """One billing block: how long it runs and what it cost (0 for a ticket's time)."""

    seconds: int
    charge: int


def block_price(hourly_rate: int, seconds: int) -> int:
    """The price of ``seconds`` at ``hourly_rate`` (minor units), rounded half up."""
    exact = Fraction(hourly_rate * seconds, SECONDS_PER_HOUR)
    return int((exact + Fraction(1, 2)).__floor__())


def seconds_bought(balance: int, hourly_rate: int) -> int:
    """The whole seconds ``balance`` pays for at ``hourly_rate``; a free rate buys an hour."""
    if hourly_rate <= 0:
        return SECONDS_PER_HOUR
    return max(0, balance * SECONDS_PER_HOUR // hourly_rate)


def next_block(balance: int, hourly_rate: int, block_seconds: int) -> Block | None:
    """The block ``balance`` pays for: a full one, or shorter when short; None if nothing."""
    seconds = min(block_seconds, seconds_bought(balance, hourly_rate))
    if seconds <= 0:
        return None
    return Block(seconds, min(balance, block_price(hourly_rate, seconds)))


def ticket_block(seconds_left: int, block_seconds: int) -> Block | None:
    seconds = min(block_seconds, seconds_left)
    return Block(seconds, 0) if seconds > 0 else None


def minimum_balance(setting: int, hourly_rate: int, block_seconds: int) -> int:
    """What a member needs to log in: the venue's minimum if it set one, else one full
    block's price (and never nothing)."""
    return setting if setting > 0 else max(1, block_price(hourly_rate, block_seconds))


def unused_refund(charge: int, started_at: datetime, ends_at: datetime, now: datetime) -> int:
    """The unused share of one block's ``charge`` at ``now``, rounded down."""
    booked = (ends_at - started_at) // timedelta(microseconds=1)
    left = (ends_at - max(now, started_at)) // timedelta(microseconds=1)
    if booked <= 0 or left <= 0:
        return 0
    return charge * min(left, booked) // booked


def unused_seconds(started_at: datetime, ends_at: datetime, now: datetime) -> int:
    """Whole seconds of a block not used by ``now`` (a ticket keeps them)."""
    left = (ends_at - max(now, started_at)).total_seconds()
    return max(0, math.floor(left))


def renewal_due(block_ends_at: datetime, now: datetime, lead_seconds: float) -> bool:
    return block_ends_at - timedelta(seconds=lead_seconds) <= now < block_ends_at


def session_minutes(seconds: int) -> int:
    """A block as the session's whole minutes (sessions count minutes; at least one)."""
    return max(1, math.ceil(seconds / 60))


def money(amount: int, currency: str) -> str:
    """``120, "USD"`` as ``$1.20``; other currencies as ``1.20 CHF``."""
    whole, cents = divmod(abs(amount), 100)
    number = f"{'-' if amount < 0 else ''}{whole:,}.{cents:02d}"
    sign = _CURRENCY_SIGNS.get(currency)
    return f"{sign}{number}" if sign else f"{number} {currency}"


def duration_text(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), SECONDS_PER_HOUR)
    minutes = rest // 60
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


# --- what the login view says ------------------------------------------------------------

WRONG_CREDENTIALS = "Wrong username or PIN"
ACCOUNT_DISABLED = "Account disabled"
TICKET_INVALID = "This ticket code is not valid"
STATION_BUSY = "This station is not available; please see the front desk"


def balance_too_low(balance: int, minimum: int, currency: str) -> str:
    return f"Balance too low: {money(balance, currency)}; the minimum is {money(minimum, currency)}"


def already_logged_in(station_name: str) -> str:
    return f"Already logged in at {station_name}"


def ticket_in_use(station_name: str) -> str:
    return f"This ticket is in use at {station_name}"


def ticket_used_up(amount: bool) -> str:
    return f"This ticket has no {'money' if amount else 'time'} left"


def throttled(retry_after: float) -> str:
    return f"Too many attempts; try again in {math.ceil(retry_after)} s"


# --- guest ticket codes ------------------------------------------------------------------


def new_ticket_code() -> str:
    """A random code of :data:`TICKET_CODE_BITS` bits, base32 in groups: ``ABCD-EFGH-JKLM``."""
    value = secrets.randbits(TICKET_CODE_BITS)
    text = "".join(_BASE32[(value >> shift) & 31] for shift in range(TICKET_CODE_BITS - 5, -1, -5))
    groups = [text[i : i + TICKET_GROUP] for i in range(0, len(text), TICKET_GROUP)]
    return "-".join(groups)


def normalise_code(code: str) -> str:
    """What a customer typed, as stored: no spaces or dashes, upper case, 0/1 read as O/I
    (base32 has neither digit, so they can only be misreadings)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.replace("0", "O").replace("1", "I")


def code_hash(code: str, secret: str) -> str:
    """The code as stored: an HMAC with the server's secret, so a leaked table gives nothing."""
    key = hashlib.sha256(b"gameops-ticket:" + secret.encode()).digest()
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()


def ticket_hint(code: str) -> str:
    """The last four characters, for staff to tell tickets apart (not enough to use one)."""
    return normalise_code(code)[-4:]
