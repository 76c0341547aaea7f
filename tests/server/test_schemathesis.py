"""schemathesis against the app's own OpenAPI schema (issue 11, "Done when"): every
operation, as the admin, generated inputs and stateful sequences along the links it infers
(create a station, then read, change, sell on it...). No answer may be a server error, and
every answer must match its documented status code and schema.

Kept to about a minute with a bounded example count; `schemathesis run` with its default
counts and the coverage phase (README) is the longer version.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer, server_settings

pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")

CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        # Not content_type_conformance: uvicorn itself answers an over-long URL (16 KiB) with
        # a plain-text 400 before the app sees it.
    ]
)
# These end the admin's own session (the token the run uses) or change its password: the
# rest of the run would be 401s. Their own tests cover them.
SESSION_ENDERS = [
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/users/me/password"),
    ("PATCH", "/api/v1/users/{user_id}"),  # the stateful phase finds the admin in GET /users
]
EXAMPLES = int(os.environ.get("GAMEOPS_SCHEMATHESIS_EXAMPLES", "10"))


@pytest.fixture
def backend() -> str:
    return "postgres"  # where a NUL byte or a 64-bit amount used to be a 500


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    # Generated consoles point at made-up plugs and routers: give up on them quickly.
    settings = server_settings(
        database_url, tmp_path / "data", device_timeout_seconds=0.5, device_retries=0
    )
    live = LiveServer(settings)
    await live.start()
    yield live
    await live.close()


@pytest.mark.timeout(600)
async def test_no_server_error_and_every_answer_matches_the_schema(
    server: LiveServer, tmp_path: Path
) -> None:
    token = await server.login()
    excluded = [
        arg
        for operation_id in await _operation_ids(server, SESSION_ENDERS)
        for arg in ("--exclude-operation-id", operation_id)
    ]
    schemathesis = Path(sys.executable).with_name("schemathesis")
    process = await asyncio.create_subprocess_exec(
        str(schemathesis), "run", f"{server.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--phases", "fuzzing,stateful",
        "--max-examples", str(EXAMPLES),
        "--workers", "1",
        "--request-timeout", "10",
        "--suppress-health-check", "all",
        *excluded,
        cwd=tmp_path,  # its .hypothesis example database
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 600)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected is not None, report
    assert int(selected[2]) - int(selected[1]) == len(SESSION_ENDERS), report
    assert int(selected[1]) >= 40
    assert "401 Unauthorized (" not in report, report  # the admin's token lasted the run


async def _operation_ids(server: LiveServer, operations: list[tuple[str, str]]) -> list[str]:
    schema = (await server.client().get("/openapi.json")).json()
    return [schema["paths"][path][method.lower()]["operationId"] for method, path in operations]
