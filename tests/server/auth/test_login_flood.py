"""A flood of wrong logins must not stall the server (issue 11 §2): argon2 runs in worker
threads, a bounded number at once, never on the event loop that serves agents and /health."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.support.live_server import ADMIN_USERNAME, LiveServer
from tests.support.waiting import eventually

LOGIN = "/api/v1/auth/login"


async def test_health_answers_while_wrong_logins_are_hashing(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords = live_server.services.passwords
    hashing, release = threading.Semaphore(0), threading.Event()
    entered: list[str] = []
    real_verify = passwords.hasher.verify

    def held_verify(password: str, password_hash: str) -> bool:
        # Holds the hash until the test lets go: on the event loop it would hold everything.
        entered.append(threading.current_thread().name)
        hashing.release()
        release.wait(5)
        return real_verify(password, password_hash)

    monkeypatch.setattr(passwords.hasher, "verify", held_verify)
    client = live_server.client()
    logins = [
        asyncio.create_task(
            client.post(LOGIN, json={"username": ADMIN_USERNAME, "password": f"wrong-{n}"})
        )
        for n in range(40)
    ]
    try:
        await eventually(lambda: asyncio.to_thread(hashing.acquire, timeout=0.1), bool)
        health = await client.get("/health", timeout=5)
        assert health.status_code == 200, health.text
        # Answered while wrong logins are still waiting for their hashes.
        assert [task for task in logins if not task.done()]
    finally:
        release.set()
    answers = await asyncio.gather(*logins)
    assert {answer.status_code for answer in answers} <= {401, 429}
    assert threading.main_thread().name not in entered
