"""The shipped nginx site (deploy/nginx/gameops.conf) sends requests around replicas that are
gone and never answers "502 Bad Gateway" while one of them is up. Three stand-in replicas
(plain HTTP servers on loopback) stand for ``gameops serve``, so that each can be stopped and
started within nginx's ``fail_timeout``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import free_port, require_nginx, start_nginx, wait_healthy


class StandIn:
    """A replica that answers every request 200 with its own port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        port = self.port

        class Answer(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = str(port).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Answer)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def stand_ins() -> Iterator[list[StandIn]]:
    require_nginx()
    replicas = [StandIn(free_port()) for _ in range(3)]
    for replica in replicas:
        replica.start()
    yield replicas
    for replica in replicas:
        replica.stop()


async def test_a_replica_back_from_a_restart_is_used_at_once(
    stand_ins: list[StandIn], tmp_path: Path
) -> None:
    """A rolling restart's worst moment: the replica leaving and the one restarted just
    before it are both skipped (each failed once within ``fail_timeout``), and then one
    request fails on the third. nginx must still use a replica that is up; before the
    backup entries it answered 502 "no live upstreams" for up to 5 s."""
    leaving, restarted, staying = stand_ins
    listen_port = free_port()
    nginx = await start_nginx(tmp_path / "nginx", listen_port, [r.port for r in stand_ins])
    base_url = f"http://127.0.0.1:{listen_port}"
    try:
        await wait_healthy(base_url, nginx, seconds=10)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            leaving.stop()
            restarted.stop()
            assert (await client.get("/")).text == str(staying.port)

            staying.stop()  # one failed request: every primary entry is skipped now
            assert (await client.get("/")).status_code == 502  # truly none up: a fair 502
            failed_at = time.monotonic()
            staying.start()
            answer = await client.get("/")
            within_fail_timeout = time.monotonic() - failed_at < 5
        assert within_fail_timeout, "too slow to test: nginx's 5 s had passed"
        assert answer.status_code == 200, (tmp_path / "nginx" / "error.log").read_text()
        assert answer.text == str(staying.port)
    finally:
        nginx.terminate()
        await nginx.wait()
