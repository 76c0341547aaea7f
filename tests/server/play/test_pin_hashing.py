"""Customers' PINs are hashed with the cheaper PIN setting (a tournament's 500 logins each
check one), passwords with the password setting; both log in at the PC."""

from __future__ import annotations

import httpx
from pwdlib import PasswordHash
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from gameops.server.db.models import User
from tests.server.play.test_login import PIN, log_in, member, pc
from tests.support.live_server import LiveServer
from tests.support.money import API

PIN_SETTING = "$argon2id$v=19$m=19456,t=2,p=1$"
PASSWORD_SETTING = "$argon2id$v=19$m=65536,t=3,p=4$"


async def stored_hash(database_url: str, username: str) -> str:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        query = select(User.password_hash).where(User.username == username)
        hashed = (await conn.execute(query)).scalar_one()
    await engine.dispose()
    assert hashed is not None
    return str(hashed)


async def test_a_pin_gets_the_pin_setting_and_a_password_the_password_setting(
    live_server: LiveServer, admin: httpx.AsyncClient, database_url: str
) -> None:
    with_pin = await member(admin, 500, username="pinny")
    assert (await stored_hash(database_url, "pinny")).startswith(PIN_SETTING)
    agent = await pc(live_server, admin, "PC-31")
    assert (await log_in(agent, "pinny")).ok

    with_password = await member(admin, 500, username="passy")
    changed = await admin.patch(
        f"{API}/customers/{with_password['id']}", json={"password": "correct horse"}
    )
    assert changed.status_code == 200, changed.text
    assert (await stored_hash(database_url, "passy")).startswith(PASSWORD_SETTING)
    other = await pc(live_server, admin, "PC-32")
    assert (await log_in(other, "passy", "correct horse")).ok

    back_to_pin = await admin.patch(f"{API}/customers/{with_pin['id']}", json={"pin": "9876"})
    assert back_to_pin.status_code == 200
    assert (await stored_hash(database_url, "pinny")).startswith(PIN_SETTING)
    await agent.close()
    await other.close()


async def test_a_pin_from_before_the_pin_setting_is_hashed_again_at_its_next_login(
    live_server: LiveServer, admin: httpx.AsyncClient, database_url: str
) -> None:
    await member(admin, 500, username="oldtimer")
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # as stored before PINs had a setting of their own
        old = PasswordHash.recommended().hash(PIN)
        oldtimer = update(User).where(User.username == "oldtimer")
        await conn.execute(oldtimer.values(password_hash=old))
    await engine.dispose()
    assert (await stored_hash(database_url, "oldtimer")).startswith(PASSWORD_SETTING)

    agent = await pc(live_server, admin, "PC-33")
    assert (await log_in(agent, "oldtimer")).ok
    assert (await stored_hash(database_url, "oldtimer")).startswith(PIN_SETTING)
    await agent.close()
