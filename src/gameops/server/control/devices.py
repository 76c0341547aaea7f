"""The console devices a server talks to: one driver per plug or router (shared by every
station that uses it), each behind a circuit breaker, with bounded retries.

A call on a dead device costs at most ``timeout x (retries + 1)`` plus the backoff, and once
its breaker is open it fails at once, so one dead plug never slows the other stations.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from gameops.devices.errors import DeviceConnectionError, DeviceError
from gameops.devices.routeros import RouterOs, normalize_mac
from gameops.devices.shelly import ShellyPlug, create_plug
from gameops.server.control.resilience import BreakerState, CircuitBreaker, backoff_delays
from gameops.server.db.models import Station
from gameops.server.metrics import Metrics
from gameops.server.settings import Settings
from gameops.server.stations.device_secrets import DeviceSecrets

T = TypeVar("T")


class DeviceUnavailable(DeviceConnectionError):
    """The device's breaker is open: it failed repeatedly and is not being called for now."""


@dataclass(frozen=True)
class PlugHandle:
    driver: ShellyPlug
    label: str


@dataclass(frozen=True)
class RouterHandle:
    driver: RouterOs
    label: str
    mac: str
    console_ip: str | None


class DeviceHub:
    def __init__(
        self,
        settings: Settings,
        secrets: DeviceSecrets,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._metrics = metrics or Metrics()
        self._secrets = secrets
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._plugs: dict[tuple[Any, ...], ShellyPlug] = {}
        self._routers: dict[tuple[Any, ...], RouterOs] = {}
        self._breakers: dict[str, CircuitBreaker] = {}

    async def close(self) -> None:
        for plug in self._plugs.values():
            await plug.shutdown()
        for router in self._routers.values():
            await router.shutdown()
        self._plugs.clear()
        self._routers.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def plug(self, station: Station) -> PlugHandle | None:
        config = (station.controller or {}).get("shelly")
        if not config:
            return None
        password = self._secrets.open(station.controller_secret).get("shelly")
        key = (
            config["generation"],
            config["host"],
            config["port"],
            config.get("username"),
            password,
        )
        if key not in self._plugs:
            self._plugs[key] = create_plug(
                self._session(),
                config["generation"],
                config["host"],
                config["port"],
                username=config.get("username"),
                password=password,
                timeout=self._settings.device_timeout_seconds,
            )
        return PlugHandle(self._plugs[key], f"Shelly plug {config['host']}:{config['port']}")

    def router(self, station: Station) -> RouterHandle | None:
        config = (station.controller or {}).get("mikrotik")
        if not config:
            return None
        password = self._secrets.open(station.controller_secret).get("mikrotik", "")
        key = (config["host"], config["port"], config["username"], password, config["tls"])
        if key not in self._routers:
            self._routers[key] = RouterOs(
                config["host"],
                config["port"],
                username=config["username"],
                password=password,
                ssl_context=_tls(config) if config["tls"] else None,
                address_list=self._settings.router_address_list,
                timeout=self._settings.device_timeout_seconds,
            )
        label = f"MikroTik router {config['host']}:{config['port']}"
        mac = normalize_mac(config["console_mac"])
        return RouterHandle(self._routers[key], label, mac, config.get("console_ip"))

    async def call(self, label: str, work: Callable[[], Awaitable[T]]) -> T:
        """Runs ``work`` on the device ``label``: retried on connection errors, breaker-guarded."""
        breaker = self._breakers.setdefault(
            label,
            CircuitBreaker(
                self._settings.device_breaker_failures, self._settings.device_breaker_reset_seconds
            ),
        )
        outcomes = self._metrics.device_calls
        if not breaker.allows(self._clock()):
            outcomes.labels("skipped").inc()
            raise DeviceUnavailable(f"{label} is not answering (retrying later)")
        delays = backoff_delays(
            self._settings.device_retries, self._settings.device_backoff_seconds
        )
        for delay in [*delays, None]:
            try:
                result = await work()
            except DeviceConnectionError:
                if delay is None:
                    breaker.failed(self._clock())
                    outcomes.labels("unreachable").inc()
                    raise
                await asyncio.sleep(delay)
            except DeviceError:
                breaker.succeeded()  # it answered: alive, though it refused this call
                outcomes.labels("refused").inc()
                raise
            else:
                breaker.succeeded()
                outcomes.labels("ok").inc()
                return result
        raise AssertionError("unreachable")

    def breaker_states(self) -> dict[str, int]:
        """Each device's breaker: 0 closed, 1 half-open, 2 open (for the metrics)."""
        now = self._clock()
        order = [BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN]
        return {label: order.index(b.state(now)) for label, b in self._breakers.items()}

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http


def _tls(config: dict[str, Any]) -> ssl.SSLContext:
    return router_tls(verify=config.get("tls_verify", True))


def router_tls(*, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        # MikroTik's api-ssl often runs on a self-signed certificate: encrypted, not verified.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
