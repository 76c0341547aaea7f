"""Password hashing off the event loop.

argon2 is built to be slow (tens of milliseconds of CPU per check). On the event loop, 40
concurrent wrong logins stalled every agent, timer and ``/health`` for seconds; here each
hash runs in a worker thread, and at most ``workers`` at once (about one per core), so a
flood of logins queues for the CPU instead of taking the whole server with it.
"""

from __future__ import annotations

import asyncio
import os
import secrets

from pwdlib import PasswordHash


class Passwords:
    def __init__(self, hasher: PasswordHash | None = None, workers: int | None = None) -> None:
        self.hasher = hasher or PasswordHash.recommended()  # argon2id
        self._slots = asyncio.Semaphore(workers or os.cpu_count() or 1)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            # Spend the same time as a real check so usernames cannot be probed by timing.
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            await self._verify(password, self._dummy_hash)
            return False
        return await self._verify(password, password_hash)

    async def _verify(self, password: str, password_hash: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.verify, password, password_hash)
