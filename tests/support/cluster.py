"""Several ``gameops serve`` replicas behind a real nginx, started from the files in
``deploy/`` (the systemd unit's command line, the nginx site), as a venue's host runs them."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import ADMIN_PASSWORD, ADMIN_USERNAME

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "gameops.conf"
REPLICA_UNIT = DEPLOY / "systemd" / "gameops@.service"
INSTALLED_GAMEOPS = "/opt/gameops/.venv/bin/gameops"


def nginx_binary() -> str | None:
    """Debian's nginx lives in /usr/sbin, which a user's PATH may lack."""
    return shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")


def require_nginx() -> None:
    """Skip without nginx; under CI, where .ci/run installs it, fail instead."""
    if nginx_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def replica_command(port: int) -> list[str]:
    """The unit's ``ExecStart`` for instance ``port``, with this checkout's ``gameops``."""
    exec_start = next(
        line.split("=", 1)[1]
        for line in REPLICA_UNIT.read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    words = shlex.split(exec_start.replace("%i", str(port)))
    assert words[0] == INSTALLED_GAMEOPS, words
    return [sys.executable, "-m", "gameops.cli", *words[1:]]


def nginx_site(listen_port: int, replica_ports: list[int]) -> str:
    """deploy/nginx/gameops.conf with the test's ports in place of 80 and 8001-8003."""
    site = NGINX_SITE.read_text()
    shipped = list(dict.fromkeys(re.findall(r"server 127\.0\.0\.1:(\d+)", site)))
    assert len(shipped) == len(replica_ports), shipped
    for shipped_port, port in zip(shipped, replica_ports, strict=True):
        site = site.replace(f"127.0.0.1:{shipped_port} ", f"127.0.0.1:{port} ")
    return site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")


@dataclass
class Replica:
    port: int
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *replica_command(self.port), env=self.env, stdout=log, stderr=log
        )
        log.close()
        await wait_healthy(self.base_url, self.process)

    def kill(self) -> None:
        """``kill -9``: no goodbye, no draining."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def terminate(self) -> float:
        """SIGTERM, as systemd stops a unit; the seconds until the process was gone."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        return time.monotonic() - started

    async def reap(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
        if self.process is not None:
            await self.process.wait()


async def wait_healthy(
    base_url: str, process: asyncio.subprocess.Process, seconds: float = 120
) -> None:
    # Generous: three replicas importing and migrating at once on a shared, loaded 2-core
    # machine took 58 s (about 3 s when it is quiet).
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"{base_url} exited with {process.returncode} at start")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base_url} not healthy within {seconds} s")


def write_nginx_files(root: Path, listen_port: int, replica_ports: list[int]) -> Path:
    """nginx.conf in ``root`` serving the shipped site for ``replica_ports``; its path."""
    root.mkdir(exist_ok=True)
    (root / "gameops.conf").write_text(nginx_site(listen_port, replica_ports))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = root / "nginx.conf"
    config.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {root / 'nginx.pid'};\n"
        f"error_log {root / 'error.log'} warn;\ndaemon off;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n    access_log off;\n{temp_paths}\n"
        f"    include {root / 'gameops.conf'};\n}}\n"
    )
    return config


async def start_nginx(
    root: Path, listen_port: int, replica_ports: list[int]
) -> asyncio.subprocess.Process:
    """Debian's nginx with the shipped site for ``replica_ports``, its files in ``root``."""
    nginx = nginx_binary()
    assert nginx is not None, "nginx is not installed"
    config = write_nginx_files(root, listen_port, replica_ports)
    return await asyncio.create_subprocess_exec(
        nginx, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")
    )


@dataclass
class Cluster:
    """``replicas`` behind nginx on ``base_url``; each replica's log in ``directory``."""

    directory: Path
    replicas: list[Replica]
    port: int = field(default_factory=free_port)
    nginx: asyncio.subprocess.Process | None = None

    @classmethod
    def build(cls, directory: Path, settings_env: dict[str, str], count: int = 3) -> Cluster:
        replicas = []
        for number in range(count):
            port = free_port()
            env = {
                **os.environ,
                **settings_env,
                "GAMEOPS_DATA_DIR": str(directory / f"replica-{port}"),
                "GAMEOPS_ADMIN_USERNAME": ADMIN_USERNAME,
                "GAMEOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "GAMEOPS_LOG_LEVEL": "WARNING",
            }
            replicas.append(Replica(port, env, directory / f"replica-{number + 1}.log"))
        return cls(directory, replicas)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await asyncio.gather(*(replica.start() for replica in self.replicas))
        await self._start_nginx()

    async def _start_nginx(self) -> None:
        self.nginx = await start_nginx(
            self.directory / "nginx", self.port, [replica.port for replica in self.replicas]
        )
        await wait_healthy(self.base_url, self.nginx, seconds=10)

    async def close(self) -> None:
        if self.nginx is not None and self.nginx.returncode is None:
            self.nginx.terminate()
            await self.nginx.wait()
        await asyncio.gather(*(replica.reap() for replica in self.replicas))

    def nginx_errors(self) -> Counter[str]:
        """nginx's error log, each message counted once its time, pid, connection and
        client are taken out: what a run of 502s was made of."""
        log = self.directory / "nginx" / "error.log"
        if not log.exists():
            return Counter()
        return Counter(
            re.sub(r"^\S+ \S+ (\[\w+\]) \d+#\d+: \*\d+ ", r"\1 ", line.split(", client:")[0])
            for line in log.read_text().splitlines()
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {replica.log_path.name}\n{replica.log_path.read_text()[-3000:]}"
            for replica in self.replicas
            if replica.log_path.exists()
        )
