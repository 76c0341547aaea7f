"""Guesses are rate-limited (issue 11 §2): logins per account and per client address, agent
tokens per address and per station; 429 with ``Retry-After`` and a JSON detail, one
AUTH_THROTTLED audit line per burst; in Redis when it is set, in-process during its outage."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import websockets
from websockets.exceptions import ConnectionClosed

from gameops.protocol import CloseCode
from gameops.protocol.close_codes import retry_after
from tests.support.agent_client import ScriptedAgent
from tests.support.databases import REDIS_HOST, REDIS_PORT, require_service
from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer, server_settings
from tests.support.money import events_of
from tests.support.proxy import TcpProxy

LOGIN = "/api/v1/auth/login"


async def _server(database_url: str, tmp_path: Path, **overrides: Any) -> LiveServer:
    server = LiveServer(server_settings(database_url, tmp_path / "data", **overrides))
    await server.start()
    return server


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = await _server(
        database_url,
        tmp_path,
        login_limit_per_account="3 per minute",
        login_limit_per_ip="5 per minute",
        agent_auth_limit_per_station="2 per minute",
    )
    yield server
    await server.close()


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


def _assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert response.json()["retry_after"] == retry_after
    assert "Too many attempts" in response.json()["detail"]


async def test_wrong_logins_lock_the_account_even_for_the_right_password(
    limited: LiveServer,
) -> None:
    admin = await limited.admin_client()  # a success first: it leaves the window empty
    client = limited.client()
    assert [(await _login(client, ADMIN_USERNAME, "wrong")).status_code for _ in range(3)] == [
        401
    ] * 3
    _assert_throttled(await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD))
    _assert_throttled(await _login(client, ADMIN_USERNAME.upper(), ADMIN_PASSWORD))
    # One audit line for the burst, not one per refused guess.
    lines = await events_of(admin, "AUTH_THROTTLED")
    assert [line["data"]["limit"] for line in lines] == ["login-account"]
    assert lines[0]["data"]["key"] == ADMIN_USERNAME


async def test_a_successful_login_clears_the_accounts_window(limited: LiveServer) -> None:
    client = limited.client()
    for _ in range(2):  # 4 failures from this address: under its limit of 5
        assert (await _login(client, ADMIN_USERNAME, "wrong")).status_code == 401
        assert (await _login(client, ADMIN_USERNAME, "wrong")).status_code == 401
        assert (await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)).status_code == 200


async def test_failed_logins_from_one_address_are_limited_across_accounts(
    limited: LiveServer,
) -> None:
    client = limited.client()
    for n in range(5):
        assert (await _login(client, f"nobody-{n}", "wrong")).status_code == 401
    _assert_throttled(await _login(client, "nobody-else", "wrong"))
    _assert_throttled(await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD))


async def _agent_close(url: str, token: str) -> tuple[int, str]:
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 15)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_agent_token_guesses_are_limited_per_station(limited: LiveServer) -> None:
    station_id, token = await limited.create_pc_station()
    url = f"{limited.ws_url}/ws/agent/{station_id}"
    for _ in range(2):
        assert (await _agent_close(url, "gat_wrong"))[0] == CloseCode.AUTH_FAILED
    code, reason = await _agent_close(url, "gat_wrong")
    assert code == CloseCode.TRY_AGAIN_LATER
    assert 0 < (retry_after(reason) or 0) <= 60  # the agent waits as long as it is told
    assert (await _agent_close(url, "gat_wrong"))[0] == CloseCode.TRY_AGAIN_LATER
    lines = await events_of(await limited.admin_client(), "AUTH_THROTTLED")
    assert [(line["data"]["limit"], line["data"]["key"]) for line in lines] == [
        ("agent-auth-station", station_id)
    ]
    # The station's own agent is not locked out by someone else's guesses.
    agent = await ScriptedAgent.connect(limited.ws_url, station_id, token)
    await agent.close()


async def test_an_address_that_keeps_failing_is_refused_before_any_lookup(
    database_url: str, tmp_path: Path
) -> None:
    server = await _server(database_url, tmp_path, agent_auth_limit_per_ip="3 per minute")
    try:
        station_id, token = await server.create_pc_station()
        for _ in range(3):  # unknown stations: failures all the same
            code, _ = await _agent_close(f"{server.ws_url}/ws/agent/{uuid.uuid4()}", token)
            assert code == CloseCode.UNKNOWN_STATION
        code, _ = await _agent_close(f"{server.ws_url}/ws/agent/{station_id}", token)
        assert code == CloseCode.TRY_AGAIN_LATER
    finally:
        await server.close()


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    proxy = TcpProxy(REDIS_HOST, REDIS_PORT)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.mark.redis
async def test_windows_live_in_redis_and_survive_its_outage(
    database_url: str, tmp_path: Path, redis_proxy: TcpProxy
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    server = await _server(
        database_url,
        tmp_path,
        redis_url=redis_proxy.url("redis", "/0"),
        redis_prefix=prefix,
        device_key=uuid.uuid4().hex,  # replicas (Redis) need explicit keys
        login_limit_per_account="3 per minute",
    )
    redis = aioredis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    try:
        client = server.client()
        assert (await _login(client, "ghost", "wrong")).status_code == 401
        assert await redis.keys(f"{prefix}limits*ghost*"), "the window is kept in Redis"
        await redis_proxy.cut()
        # Redis is gone: counted in this process instead, never a 500.
        answers = [(await _login(client, "ghost", "wrong")).status_code for _ in range(4)]
        assert answers == [401, 401, 401, 429]
        assert (await _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)).status_code == 200
    finally:
        redis_proxy.restore()
        await redis.aclose()
        await server.close()


async def test_guesses_of_the_current_password_are_limited(limited: LiveServer) -> None:
    me = await limited.admin_client()
    answers = []
    for attempt in ("wrong-1", "wrong-2", "wrong-3", ADMIN_PASSWORD):
        body = {"current_password": attempt, "new_password": "a-new-password-1"}
        answers.append(await me.post("/api/v1/users/me/password", json=body))
    assert [answer.status_code for answer in answers[:3]] == [400] * 3
    _assert_throttled(answers[3])
    lines = await events_of(await limited.admin_client(), "AUTH_THROTTLED")
    assert [line["data"]["limit"] for line in lines] == ["password-change"]
