"""HTTP hardening (issue 11 §3): security headers everywhere, HSTS over TLS, no NUL byte in
any request (a 500 on PostgreSQL before), customer search that treats % and _ as text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gameops.server.hardening import DASHBOARD_CSP, has_nul
from gameops.server.tls import write_self_signed
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, create_customer, pc_station


async def test_security_headers_on_the_dashboard_and_the_api(admin: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/static/js/api.js", "/health", f"{API}/floor"):
        response = await admin.get(path)
        assert response.status_code == 200, response.text
        csp = response.headers["content-security-policy"]
        assert csp == DASHBOARD_CSP
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_errors_and_docs_have_headers_too(admin: httpx.AsyncClient) -> None:
    missing = await admin.get(f"{API}/stations/{'0' * 8}-0000-0000-0000-{'0' * 12}")
    assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"
    docs = await admin.get("/docs")
    assert docs.status_code == 200
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


@pytest.fixture
async def tls_server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    cert, key = write_self_signed(tmp_path / "tls", ["127.0.0.1"])
    settings = server_settings(database_url, tmp_path / "data", tls_certfile=cert, tls_keyfile=key)
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def test_hsts_when_serving_tls(tls_server: LiveServer) -> None:
    response = await tls_server.client().get("/login")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_nul_detection_reads_json_escapes_exactly() -> None:
    assert has_nul("/", b"", b'{"name": "a\\u0000"}', "application/json")
    assert has_nul("/", b"", b'{"name": "a\\\\\\u0000"}', "application/json")  # \\ then \u0000
    assert not has_nul("/", b"", b'{"name": "a\\\\u0000"}', "application/json")  # text "\u0000"
    assert has_nul("/", b"q=a%00b", b"", "")
    assert has_nul("/a\x00", b"", b"", "")
    assert has_nul("/", b"", b"name=a%00", "application/x-www-form-urlencoded")
    assert not has_nul("/", b"q=100%25", b'{"a": "\\u0001"}', "application/json")


NUL_REQUESTS = [
    ("POST", "/customers", {"username": "nul-test", "full_name": "Ann\u0000"}),
    ("POST", "/stations", {"name": "PC\u0000", "type": "PC", "hourly_rate": 600}),
    ("POST", "/auth/login", {"username": "admin\u0000", "password": "x"}),
    ("GET", "/customers?q=ann%00", None),
    ("GET", "/events?type=%00", None),
    ("GET", "/stations/%00", None),
]


async def test_a_nul_byte_anywhere_is_422_not_500(admin: httpx.AsyncClient) -> None:
    for method, path, body in NUL_REQUESTS:
        response = await admin.request(method, API + path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert "NUL" in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_nul_in_text_does_not_stop_the_request_after_it(admin: httpx.AsyncClient) -> None:
    literal = await create_customer(admin, full_name="back\\u0000slash")  # the six characters
    assert literal["full_name"] == "back\\u0000slash"
    assert (await admin.get(f"{API}/customers", params={"q": "\\u0000"})).status_code == 200
    await pc_station(admin)


async def test_customer_search_takes_percent_and_underscore_literally(
    admin: httpx.AsyncClient,
) -> None:
    await create_customer(admin, "ann_1", full_name="Ann One")
    await create_customer(admin, "annx1", full_name="Ann 100% sure")
    await create_customer(admin, "bob", full_name="Bob")

    async def found(q: str) -> list[str]:
        response = await admin.get(f"{API}/customers", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["username"] for c in response.json()["items"]]

    assert await found("ann_") == ["ann_1"]
    assert await found("%") == ["annx1"]
    assert await found("_") == ["ann_1"]
    assert await found("ANN") == ["ann_1", "annx1"]
    assert await found("\\") == []


async def test_station_specs_over_rest_are_bounded_like_an_agents(
    admin: httpx.AsyncClient,
) -> None:
    """500 levels of nesting were accepted and then could not be serialised: a 500."""
    body = {"name": "PC-deep", "type": "PC", "hourly_rate": 600}
    for specs in (
        {"a": json.loads("[" * 500 + "]" * 500)},
        {"a": {"b": {"c": 1}}},
        {f"k{i}": i for i in range(65)},
        {"cpu": "x" * 257},
    ):
        response = await admin.post(f"{API}/stations", json={**body, "specs": specs})
        assert response.status_code == 422, response.text[:300]
    fine = {"cpu_model": "Ryzen", "ram_mb": 32_000, "macs": ["aa:bb:cc:dd:ee:ff"], "gpu": None}
    created = await admin.post(f"{API}/stations", json={**body, "specs": fine})
    assert created.status_code == 201 and created.json()["specs"] == fine
    assert (await admin.get(f"{API}/stations")).status_code == 200
