"""Password and PIN hashing off the event loop.

argon2 is built to be slow (tens of milliseconds of CPU per check). On the event loop, 40
concurrent wrong logins stalled every agent, timer and ``/health`` for seconds; here each
hash runs in a worker thread, and at most ``workers`` at once (about one per core), so a
flood of logins queues for the CPU instead of taking the whole server with it.

Customers' PINs get cheaper argon2 parameters than passwords (``PIN_*`` below). The PINs
customers choose have 4 to 6 digits: 10^4 to 10^6 guesses, which no hash cost a login can
afford keeps from an offline attacker (10^4 guesses at the password setting's ~60 ms take
ten minutes on one core, 10^6 a few core-days either way). What protects a PIN is the
online limit on guesses (``play.throttle``). The password setting would only make the PC
logins slow: at the start of a tournament 500 members log in at once, each check holding a
core for it.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# OWASP's argon2id setting for interactive logins (19 MiB, 2 passes, one lane): about a
# fifth of the password setting's work (64 MiB, 3 passes), and one core per check.
PIN_MEMORY_KIB, PIN_PASSES, PIN_LANES = 19 * 1024, 2, 1
PIN = re.compile(r"[0-9]{4,12}")  # what the customer schemas accept as a PIN


class Passwords:
    def __init__(
        self,
        hasher: PasswordHash | None = None,
        workers: int | None = None,
        pin_hasher: PasswordHash | None = None,
    ) -> None:
        self.hasher = hasher or PasswordHash.recommended()  # argon2id
        self.pin_hasher = pin_hasher or PasswordHash(
            (Argon2Hasher(time_cost=PIN_PASSES, memory_cost=PIN_MEMORY_KIB, parallelism=PIN_LANES),)
        )
        self._slots = asyncio.Semaphore(workers or os.cpu_count() or 1)
        self._dummy_hashes: dict[bool, str] = {}

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def hash_pin(self, pin: str) -> str:
        """A customer's PIN, hashed with the PIN setting."""
        async with self._slots:
            return await asyncio.to_thread(self.pin_hasher.hash, pin)

    def pin_outdated(self, secret: str, password_hash: str) -> bool:
        """A PIN (it verified) stored with other parameters than the PIN setting's: a PIN
        set before the setting existed, to hash again."""
        hasher = self.pin_hasher.hashers[0]
        return PIN.fullmatch(secret) is not None and hasher.check_needs_rehash(password_hash)

    async def verify(self, password: str, password_hash: str | None, *, pin: bool = False) -> bool:
        """Either kind (an argon2 hash carries its own parameters). ``pin``: where PINs are
        what is checked, so an unknown account costs what a PIN does."""
        if password_hash is None:
            # Spend the same time as a real check so usernames cannot be probed by timing.
            if pin not in self._dummy_hashes:
                make = self.hash_pin if pin else self.hash
                self._dummy_hashes[pin] = await make(secrets.token_urlsafe(16))
            await self._verify(password, self._dummy_hashes[pin])
            return False
        return await self._verify(password, password_hash)

    async def _verify(self, password: str, password_hash: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.verify, password, password_hash)
