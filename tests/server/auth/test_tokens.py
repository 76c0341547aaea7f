"""Refresh tokens rotate and a reused one revokes its login; logout; a password change, a
role change or disabling ends every token issued before (issue 11 §2)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from gameops.protocol import CloseCode
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer, server_settings
from tests.support.money import events_of

API = "/api/v1"


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    # No grace for a second use: any reuse counts as theft.
    settings = server_settings(database_url, tmp_path / "data", refresh_reuse_grace_seconds=0)
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": token})


async def _me(client: httpx.AsyncClient, access_token: str) -> int:
    response = await client.get(
        f"{API}/auth/me", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


async def test_a_reused_refresh_token_revokes_its_whole_login(server: LiveServer) -> None:
    client = server.client()
    first = await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    other_login = await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    second = await _refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    # The used token again: someone copied it. Both it and its successor are dead now.
    reused = await _refresh(client, first["refresh_token"])
    assert reused.status_code == 401 and "reused" in reused.json()["detail"]
    assert (await _refresh(client, second.json()["refresh_token"])).status_code == 401
    # Another login of the same user is another family: untouched.
    assert (await _refresh(client, other_login["refresh_token"])).status_code == 200
    admin = await server.admin_client()
    [line] = await events_of(admin, "REFRESH_TOKEN_REUSED")
    assert line["data"]["revoked"] == 2


async def test_a_token_refreshed_again_within_the_grace_gets_a_pair_and_revokes_nothing(
    live_server: LiveServer,
) -> None:
    """Two tabs at once, or a page that left before its refresh's answer came (the first
    pair never stored): each asker gets its own pair of the same login."""
    client = live_server.client()
    pair = await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    answers = await asyncio.gather(*[_refresh(client, pair["refresh_token"]) for _ in range(5)])
    assert [answer.status_code for answer in answers] == [200] * 5, answers[0].text
    pairs = [answer.json() for answer in answers]
    assert len({each["refresh_token"] for each in pairs}) == 5
    for each in pairs:
        assert await _me(client, each["access_token"]) == 200
        assert (await _refresh(client, each["refresh_token"])).status_code == 200


async def test_logout_ends_the_login(live_server: LiveServer) -> None:
    client = live_server.client()
    pair = await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    logout = await client.post(f"{API}/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204, logout.text
    assert (await _refresh(client, pair["refresh_token"])).status_code == 401
    bad = await client.post(f"{API}/auth/logout", json={"refresh_token": "not-a-token"})
    assert bad.status_code == 401 and "detail" in bad.json()


@pytest.mark.parametrize(
    "change",
    [{"password": "a-new-password-1"}, {"role": "ADMIN"}, {"is_active": False}],
    ids=["password", "role", "disable"],
)
async def test_a_staff_change_ends_every_earlier_token(
    live_server: LiveServer, admin: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    created = await admin.post(f"{API}/users", json=body)
    assert created.status_code == 201, created.text
    client = live_server.client()
    pair = await _login(client, "op1", "operator-pass-1")
    assert await _me(client, pair["access_token"]) == 200
    updated = await admin.patch(f"{API}/users/{created.json()['id']}", json=change)
    assert updated.status_code == 200, updated.text
    assert await _me(client, pair["access_token"]) == 401
    assert (await _refresh(client, pair["refresh_token"])).status_code == 401
    if change.get("is_active") is False:
        return
    fresh = await _login(client, "op1", change.get("password", "operator-pass-1"))
    assert await _me(client, fresh["access_token"]) == 200
    # Other changes keep tokens: a new full name is no reason to log out.
    renamed = await admin.patch(f"{API}/users/{created.json()['id']}", json={"full_name": "Op"})
    assert renamed.status_code == 200
    assert await _me(client, fresh["access_token"]) == 200


async def test_a_customers_new_password_ends_their_tokens(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    body = {"username": "ann", "full_name": "Ann", "password": "customer-pass-1"}
    created = await admin.post(f"{API}/customers", json=body)
    assert created.status_code == 201, created.text
    client = live_server.client()
    pair = await _login(client, "ann", "customer-pass-1")
    assert await _me(client, pair["access_token"]) == 200
    changed = await admin.patch(
        f"{API}/customers/{created.json()['id']}", json={"password": "customer-pass-2"}
    )
    assert changed.status_code == 200, changed.text
    assert await _me(client, pair["access_token"]) == 401
    assert (await _refresh(client, pair["refresh_token"])).status_code == 401


async def _feed(server: LiveServer, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{server.ws_url}/ws/dashboard")
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await ws.recv())["type"] == "hello"
    return ws


async def test_a_revoked_users_open_dashboards_are_closed(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    body = {"username": "op1", "password": "operator-pass-1", "role": "OPERATOR"}
    created = await admin.post(f"{API}/users", json=body)
    assert created.status_code == 201, created.text
    client = live_server.client()
    operator = await _feed(
        live_server, (await _login(client, "op1", "operator-pass-1"))["access_token"]
    )
    watcher = await _feed(live_server, await live_server.login())
    disabled = await admin.patch(f"{API}/users/{created.json()['id']}", json={"is_active": False})
    assert disabled.status_code == 200
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(operator.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        CloseCode.AUTH_FAILED,
        "login revoked; log in again",
    )
    # Everyone else's feed goes on, and shows the change.
    seen = json.loads(await asyncio.wait_for(watcher.recv(), 10))
    assert seen["event"]["type"] == "USER_UPDATED"
    await watcher.close()
