"""What the agent tells the server about this PC: specs once per connection (agent_hello),
load with every heartbeat."""

from __future__ import annotations

import ipaddress
import os
import platform
import shutil
import socket
import subprocess
import sys
from typing import Any

import psutil

from gameops.protocol import AgentHello

from . import AGENT_VERSION


def os_description() -> str:
    if sys.platform == "win32":
        # Not platform.system() & co.: on Windows they ask WMI (Python 3.12+), which takes
        # a second or more on a busy PC and aborts the process under Wine (its propsys.dll
        # lacks VariantToString). The kernel's version is what WMI would say anyway.
        version = sys.getwindowsversion()
        machine = os.environ.get("PROCESSOR_ARCHITECTURE", "")
        return f"Windows {version.major}.{version.minor}.{version.build} ({machine})"[:128]
    return f"{platform.system()} {platform.release()} ({platform.machine()})"[:128]


def cpu_model() -> str:
    if sys.platform == "win32":  # set by Windows for every process; no WMI (see above)
        return os.environ.get("PROCESSOR_IDENTIFIER", "") or "unknown"
    if sys.platform == "linux":
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
                for line in cpuinfo:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
    return platform.processor() or platform.machine()


MISSING_MACS = ("", "00:00:00:00:00:00")


def mac_addresses() -> list[str]:
    link_family = getattr(psutil, "AF_LINK", None)
    macs = {
        address.address.lower().replace("-", ":")
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == link_family and address.address not in MISSING_MACS
    }
    return sorted(macs)


def ipv4_interfaces() -> dict[str, str]:
    """Each interface's MAC and its IPv4 address with prefix ("192.168.1.21/24"): the
    server picks a PC on a sleeping PC's subnet to relay Wake-on-LAN."""
    link_family = getattr(psutil, "AF_LINK", None)
    found: dict[str, str] = {}
    for addresses in psutil.net_if_addrs().values():
        mac = next((a.address for a in addresses if a.family == link_family), "")
        mac = mac.lower().replace("-", ":")
        for address in addresses:
            if address.family == socket.AF_INET and address.netmask and mac not in MISSING_MACS:
                interface = ipaddress.IPv4Interface(f"{address.address}/{address.netmask}")
                found.setdefault(mac, interface.with_prefixlen)
    return found


def gpu_names() -> list[str]:
    """GPU names where they can be read cheaply (NVIDIA's tool); empty otherwise."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=5, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in output.stdout.splitlines() if line.strip()]


def system_specs() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_cores": psutil.cpu_count(logical=False),
        "cpu_threads": psutil.cpu_count(logical=True),
        "ram_mb": psutil.virtual_memory().total // 2**20,
        "macs": mac_addresses(),
        "interfaces": ipv4_interfaces(),
        "gpus": gpu_names(),
        "python": platform.python_version(),
    }


def agent_hello(specs: dict[str, Any]) -> AgentHello:
    return AgentHello(agent_version=AGENT_VERSION, os=os_description(), specs=specs)


class LoadMonitor:
    """CPU and RAM use, sampled at most every ``interval`` seconds and cached between."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.cpu = 0.0
        self.ram = 0.0
        self._sampled_at: float | None = None
        psutil.cpu_percent(interval=None)  # primes the counter; the first reading is 0

    def sample(self, steady_now: float) -> tuple[float, float]:
        if self._sampled_at is None or steady_now - self._sampled_at >= self.interval:
            self.cpu = min(100.0, psutil.cpu_percent(interval=None))
            self.ram = min(100.0, psutil.virtual_memory().percent)
            self._sampled_at = steady_now
        return self.cpu, self.ram
