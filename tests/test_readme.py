"""The README's quick start, sent as written to a real server: the login body, the first
station and its agent token, and the answers the README shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_start() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Quick start") : text.index("## What works today")]


def request_bodies() -> list[dict[str, Any]]:
    return [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", quick_start())]


def shown_answers() -> list[dict[str, Any]]:
    return [json.loads(answer) for answer in re.findall(r"^# (\{.*\})$", quick_start(), re.M)]


async def test_the_quick_start_requests_work_as_written(live_server: LiveServer) -> None:
    login_body, station_body = request_bodies()
    login_answer, token_answer = shown_answers()
    assert login_body["username"] == ADMIN_USERNAME == "admin"
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        login = await client.post(
            "/api/v1/auth/login", json={**login_body, "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        assert login.json().keys() == login_answer.keys()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        station = await client.post("/api/v1/stations", json=station_body)
        assert station.status_code == 201, station.text
        issued = await client.post(f"/api/v1/stations/{station.json()['id']}/agent-token")
        assert issued.status_code == 201, issued.text
        assert issued.json().keys() == token_answer.keys()
        assert issued.json()["token"].startswith(token_answer["token"].removesuffix("..."))
        assert (await client.get("/")).status_code == 200  # the dashboard is at /
