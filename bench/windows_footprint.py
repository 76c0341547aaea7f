"""Footprint of the Windows agent under Wine: resident memory of each process, the service
and the overlay, as a venue PC runs them.

Starts a real server (``gameops serve``, fresh SQLite), creates a station and its token,
then in a fresh Wine prefix registers the real service with Wine's service manager
(``python.exe -m gameops.agent.winservice install --start``: the Windows CPython staged by
``make windows-agent``, with the agent in its site-packages) and measures, from Linux with
psutil, each Windows process: the service (``winservice service``) and, in the overlay run,
the overlay it starts in the user's session (``gameops.agent.desktop``, Tk on Xvfb).
Baseline in the same run: a bare ``python.exe`` (``time.sleep``) under the same Wine.

RSS under Wine counts Wine's own mapped DLLs (ntdll, kernel32, ...) in each process, which
Windows shares between processes too; USS is the pages the process alone owns.

    python bench/windows_footprint.py [--seconds 20]
    python bench/windows_footprint.py --tls    # wss://, the agent pinned to the server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from agent_footprint import free_port, provision, start_server, start_xvfb

from gameops.server.tls import write_self_signed

ROOT = Path(__file__).resolve().parents[1]
STAGED = ROOT / "build" / "windows" / "stage" / "python"
TARGETS = {"service_rss_mb": 30.0, "service_and_overlay_rss_mb": 45.0}


@dataclass
class Measured:
    scenario: str
    process: str
    rss_mb: float
    pss_mb: float
    uss_mb: float


def wine_env(prefix: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WINEPREFIX": str(prefix),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": "mscoree,mshtml=",
    }


def wine(env: dict[str, str], *args: str, timeout: float = 600) -> None:
    """Run and wait for its exit (not for its output's end: the services it starts inherit
    the pipe; Wine's python.exe needs a pipe, not a file, for its output)."""
    process = subprocess.Popen(
        ["wine", *args], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    code = process.wait(timeout)
    if code != 0:
        raise SystemExit(f"wine {' '.join(args)}: exit code {code}")


def windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


def find(pattern: str) -> psutil.Process | None:
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if pattern in " ".join(process.info["cmdline"] or []):
                return process
    return None


def memory(scenario: str, name: str, process: psutil.Process) -> Measured:
    info = process.memory_full_info()
    return Measured(
        scenario=scenario,
        process=name,
        rss_mb=round(info.rss / 2**20, 1),
        pss_mb=round(getattr(info, "pss", info.rss) / 2**20, 1),
        uss_mb=round(info.uss / 2**20, 1),
    )


def write_config(
    path: Path, base_url: str, station_id: str, token: str, overlay: bool, tls: Path | None
) -> str:
    state = windows_path(path.with_name("agent-state.json"))
    log = windows_path(path.with_name("agent.log"))
    pinned = f", ca_file: '{windows_path(tls / 'cert.pem')}'" if tls else ""
    path.write_text(
        f"station: {{id: '{station_id}', name: BENCH-WIN}}\n"
        f"backend: {{url: '{base_url}', token: '{token}'{pinned}}}\n"
        f"features: {{show_overlay: {str(overlay).lower()}}}\n"
        "system: {control: windows, service: true, overlay: separate, "
        f"state_file: '{state}'}}\n"
        f"log: {{file: '{log}', level: WARNING}}\n"
    )
    return windows_path(path)


def scenario(
    env: dict[str, str], python: str, config: str, overlay: bool, seconds: float, log: Path
) -> list[Measured]:
    label = "service + overlay" if overlay else "service, no overlay"
    wine(env, python, "-m", "gameops.agent.winservice", "install", "--config", config, "--start")
    try:
        time.sleep(seconds)  # connected, idle (lock view when shown)
        service = find("gameops.agent.winservice service")
        if service is None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            raise SystemExit(f"the service process is not running; its log:\n{tail}")
        found = [memory(label, "service", service)]
        if overlay:
            desktop = find("gameops.agent.desktop")
            if desktop is None:
                raise SystemExit("the overlay process did not start")
            found.append(memory(label, "overlay", desktop))
        return found
    finally:
        wine(env, python, "-m", "gameops.agent.winservice", "remove")


async def provisioned(base_url: str, tls: Path | None) -> tuple[str, str]:
    client, station_id, token = await provision(base_url, tls)
    await client.aclose()
    return station_id, token


def bench(seconds: float, use_tls: bool) -> None:
    if not (STAGED / "python.exe").exists():
        raise SystemExit(f"{STAGED} missing: make windows-agent first")
    data = Path(tempfile.mkdtemp(prefix="gameops-winfoot-"))
    prefix = data / "prefix"
    prefix.mkdir()
    env = wine_env(prefix)
    port = free_port()
    tls = data / "tls" if use_tls else None
    if tls is not None:  # wss:// with the agent pinned to the server's own certificate
        write_self_signed(tls, ["127.0.0.1"])
    base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    server = start_server(port, data, tls)
    xvfb = start_xvfb()
    env["DISPLAY"] = os.environ.get("DISPLAY", "")
    staged = data / "python"  # a copy: make windows-agent may restage meanwhile
    shutil.copytree(STAGED, staged)
    python = windows_path(staged / "python.exe")
    results: list[Measured] = []
    try:
        subprocess.run(["wineserver", "-p"], env=env, check=True)
        wine(env, "wineboot", "--init")
        # Wine waits 10 s for a service to reach its dispatcher (Windows: 30 s), less than
        # the Windows CPython may take on a loaded machine.
        wine(env, "reg", "add", r"HKLM\System\CurrentControlSet\Control", "/v",
             "ServicesPipeTimeout", "/t", "REG_DWORD", "/d", "180000", "/f")  # fmt: skip
        subprocess.run(["wineserver", "-k"], env=env, check=True)  # read at services.exe start
        subprocess.run(["wineserver", "-w"], env=env, check=True)
        subprocess.run(["wineserver", "-p"], env=env, check=True)
        # As the installer does (no -j: no multiprocessing in Wine).
        wine(env, python, "-m", "compileall", "-q", windows_path(staged / "Lib"))
        bare = subprocess.Popen(
            ["wine", python, "-c", "import time; time.sleep(600)"], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(5)
        baseline = find("import time; time.sleep(600)")
        assert baseline is not None
        results.append(memory("baseline", "bare python.exe", baseline))
        bare.kill()
        station_id, token = asyncio.run(provisioned(base_url, tls))
        for overlay in (False, True):
            config = write_config(data / "agent.yaml", base_url, station_id, token, overlay, tls)
            results += scenario(env, python, config, overlay, seconds, data / "agent.log")
    finally:
        subprocess.run(["wineserver", "-k"], env=env, check=False)
        server.terminate()
        server.wait(15)
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(data, ignore_errors=True)
    machine = f"{platform.system()} {platform.release()}, {psutil.cpu_count()} CPUs, " + (
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM; "
        + subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip()
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for row in results:
        print(f"{row.scenario:22} {row.process:16} RSS {row.rss_mb:6} PSS {row.pss_mb:6} "
              f"USS {row.uss_mb:6} MB")  # fmt: skip
    transport = "wss:// pinned" if tls else "ws://"
    print(json.dumps({"machine": machine, "date": when, "transport": transport, "targets": TARGETS,
                      "results": [asdict(r) for r in results]}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="idle before measuring")
    parser.add_argument("--tls", action="store_true", help="wss://, agent pinned to the cert")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    bench(args.seconds, args.tls)


if __name__ == "__main__":
    main()
