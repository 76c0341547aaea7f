"""Stations in bulk: ``POST /api/v1/stations/import`` creates all rows or none, audits
each station and token as when created alone, and says which rows it refused and why;
``gameops stations import`` reads a CSV file into it, all or nothing, with a progress bar."""

from __future__ import annotations

import asyncio
import csv
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gameops.protocol import ServerHello
from gameops.server.db.models import Event
from gameops.server.events.domain import EventType
from gameops.server.stations.csv_import import (
    ImportRefused,
    csv_of,
    import_rows,
    read_rows,
)
from tests.support.agent_client import ScriptedAgent
from tests.support.live_server import ADMIN_PASSWORD, LiveServer

URL = "/api/v1/stations/import"


def _rows(count: int, prefix: str = "IMP") -> list[dict[str, Any]]:
    kinds = ["PC", "PC", "CONSOLE"]
    return [
        {"name": f"{prefix}-{n:03d}", "type": kinds[n % 3], "hourly_rate": 500 + n, "zone": "A"}
        for n in range(count)
    ]


async def _count(server: LiveServer, kind: EventType) -> int:
    async with server.services.database.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).where(Event.type == kind)) or 0)


async def _stations_total(admin: httpx.AsyncClient) -> int:
    return int(
        (await admin.get("/api/v1/stations", params={"per_page": 1})).json()["meta"]["total"]
    )


async def test_rows_are_created_audited_and_pcs_get_working_tokens(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    created_before = await _count(live_server, EventType.STATION_CREATED)
    answer = await admin.post(URL, json={"stations": _rows(30), "agent_tokens": True})

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["created"] == 30 and [s["name"] for s in body["stations"]] == [
        row["name"] for row in _rows(30)
    ]
    pcs = [s for s in body["stations"] if s["type"] == "PC"]
    assert len(pcs) == 20 and all(s["agent_token"] for s in pcs)
    assert all(s["agent_token"] is None for s in body["stations"] if s["type"] == "CONSOLE")
    assert await _stations_total(admin) == 30
    assert await _count(live_server, EventType.STATION_CREATED) == created_before + 30
    assert await _count(live_server, EventType.AGENT_TOKEN_ISSUED) == 20
    one = (await admin.get(f"/api/v1/stations/{pcs[0]['id']}")).json()
    assert one["hourly_rate"] == 500 and one["zone"] == "A" and one["status"] == "OFFLINE"

    agent = await ScriptedAgent.connect(live_server.ws_url, pcs[0]["id"], pcs[0]["agent_token"])
    assert isinstance(agent.hello, ServerHello)  # the token works at once
    await agent.close()


async def test_a_refused_row_refuses_the_whole_import_and_says_which(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    assert (await admin.post(URL, json={"stations": _rows(2, "TAKEN")})).status_code == 201
    rows = _rows(5)
    rows[1]["name"] = "TAKEN-000"  # in use already
    rows[4]["name"] = rows[2]["name"]  # twice in the request
    before = await _count(live_server, EventType.STATION_CREATED)

    answer = await admin.post(URL, json={"stations": rows, "agent_tokens": True})

    assert answer.status_code == 409
    body = answer.json()
    assert "none was" in body["detail"]
    assert body["rows"] == [
        {"row": 1, "name": "TAKEN-000", "error": "name already in use"},
        {"row": 4, "name": rows[2]["name"], "error": "same name as row 2"},
    ]
    assert await _stations_total(admin) == 2  # nothing of it was created
    assert await _count(live_server, EventType.STATION_CREATED) == before


async def test_bad_rows_dry_runs_and_non_admins(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    rows = _rows(3)
    rows[2]["hourly_rate"] = -1
    invalid = await admin.post(URL, json={"stations": rows})
    assert invalid.status_code == 422
    assert any(e["loc"][:3] == ["body", "stations", 2] for e in invalid.json()["errors"])
    too_many = await admin.post(URL, json={"stations": _rows(1001)})
    assert too_many.status_code == 422

    dry = await admin.post(URL, json={"stations": _rows(3), "dry_run": True, "agent_tokens": True})
    assert dry.status_code == 201 and dry.json()["created"] == 0
    assert all(s["id"] is None and s["agent_token"] is None for s in dry.json()["stations"])
    assert await _stations_total(admin) == 0

    staff = await admin.post(
        "/api/v1/users",
        json={"username": "clerk", "password": "clerk-password-1", "full_name": "Clerk"},
    )
    assert staff.status_code == 201, staff.text
    clerk = live_server.client(await live_server.login("clerk", "clerk-password-1"))
    assert (await clerk.post(URL, json={"stations": _rows(1)})).status_code == 403


def test_a_csv_file_is_read_with_its_mistakes_on_their_lines() -> None:
    text = csv_of(_rows(2))
    assert read_rows(text) == [
        {"name": "IMP-000", "type": "PC", "hourly_rate": 500, "zone": "A"},
        {"name": "IMP-001", "type": "PC", "hourly_rate": 501, "zone": "A"},
    ]
    with pytest.raises(ImportRefused) as refused:
        read_rows("name,type,hourly_rate\nA,PC,5\nB,PC,five euros\n")
    assert refused.value.problems == ["line 3: hourly_rate must be a whole number of cents"]
    with pytest.raises(ImportRefused, match="no column hourly_rate"):
        read_rows("name,type\nA,PC\n")


async def test_chunks_are_all_checked_before_any_is_created(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    await admin.post(URL, json={"stations": [{"name": "LATE", "type": "PC", "hourly_rate": 1}]})
    rows = [*_rows(7), {"name": "LATE", "type": "PC", "hourly_rate": 1}]
    seen: list[tuple[str, int]] = []
    with pytest.raises(ImportRefused) as refused:
        await import_rows(
            admin, rows, agent_tokens=False, chunk=3, progress=lambda p, n: seen.append((p, n))
        )
    assert refused.value.problems == ["line 9: 'LATE': name already in use"]
    assert seen == [("checking", 3), ("checking", 6)]  # the last chunk was refused
    assert await _stations_total(admin) == 1  # only LATE itself

    imported = await import_rows(
        admin, _rows(7), agent_tokens=True, chunk=3, progress=lambda p, n: seen.append((p, n))
    )
    assert len(imported.stations) == 7 and await _stations_total(admin) == 8
    assert seen[-3:] == [("importing", 3), ("importing", 6), ("importing", 7)]


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)


async def test_the_cli_imports_a_file_and_writes_the_tokens(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = tmp_path / "stations.csv"
    source.write_text(csv_of(_rows(12)))
    tokens = tmp_path / "tokens.csv"
    command = [sys.executable, "-m", "gameops.cli", "stations", "import", str(source),
               "--server", live_server.base_url, "--tokens-out", str(tokens)]  # fmt: skip
    env = {**os.environ, "GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD}
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, timeout=120
    )

    assert done.returncode == 0, done.stderr.decode()
    assert b"12 stations imported" in done.stderr
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    with tokens.open() as written:
        lines = list(csv.DictReader(written))
    assert len(lines) == 8 and all(line["token"] for line in lines)  # the PCs
    assert await _stations_total(admin) == 12

    again = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, timeout=120
    )
    assert again.returncode == 1  # every name is taken now: nothing is created twice
    assert b"name already in use" in again.stderr and b"nothing was imported" in again.stderr
    assert await _stations_total(admin) == 12
