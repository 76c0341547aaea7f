"""Shelly smart plugs: Gen1 (HTTP, ``/relay/0``) and Gen2+ (JSON-RPC, ``Switch.*``).

Gen2+ goes through the maintained ``aioshelly`` library (its WebSocket RPC transport with
Shelly's SHA-256 digest auth). Gen1 is a few HTTP calls written here: aioshelly's Gen1 device
needs CoAP and port 80, and a plug driver needs neither. Every "on" can carry an auto-off
timer (Gen1 ``timer``, Gen2 ``toggle_after``): the plug's own dead-man switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aioshelly.common import ConnectionOptions
from aioshelly.exceptions import (
    DeviceConnectionError as ShellyConnectionError,
)
from aioshelly.exceptions import (
    InvalidAuthError,
    RpcCallError,
    ShellyError,
)
from aioshelly.rpc_device import RpcDevice

from gameops.devices.errors import (
    DeviceAuthError,
    DeviceConnectionError,
    DeviceResponseError,
)

DEFAULT_TIMEOUT = 5.0
GEN2_USERNAME = "admin"  # Gen2+ devices have one user, always "admin"


@dataclass(frozen=True)
class SwitchStatus:
    on: bool
    watts: float | None
    timer_remaining: float | None = None


class ShellyPlug(Protocol):
    host: str
    port: int

    async def turn_on(self, auto_off_seconds: int | None = None) -> SwitchStatus: ...

    async def turn_off(self) -> SwitchStatus: ...

    async def status(self) -> SwitchStatus: ...

    async def shutdown(self) -> None: ...


class ShellyGen1:
    """A Gen1 plug (Shelly Plug S and friends): HTTP GET with optional basic auth."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int = 80,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.host, self.port = host, port
        self._session = session
        self._headers = (
            {"Authorization": aiohttp.encode_basic_auth(username, password or "")}
            if username
            else {}
        )
        self._timeout = timeout

    @classmethod
    async def create(cls, session: aiohttp.ClientSession, host: str, **kwargs: Any) -> ShellyGen1:
        plug = cls(session, host, **kwargs)
        await plug.initialize()
        return plug

    async def initialize(self) -> None:
        """Proves the device is a Shelly that answers (``/shelly`` needs no auth)."""
        info = await self._get("/shelly")
        if "type" not in info:
            raise DeviceResponseError(f"{self.host}:{self.port} is not a Shelly Gen1 device")

    async def shutdown(self) -> None:
        return None  # the HTTP session belongs to the caller

    async def turn_on(self, auto_off_seconds: int | None = None) -> SwitchStatus:
        params = {"turn": "on"}
        if auto_off_seconds is not None:
            params["timer"] = str(max(1, int(auto_off_seconds)))
        return _gen1_relay(await self._get("/relay/0", params))

    async def turn_off(self) -> SwitchStatus:
        return _gen1_relay(await self._get("/relay/0", {"turn": "off"}))

    async def status(self) -> SwitchStatus:
        body = await self._get("/status")
        try:
            relay, meter = body["relays"][0], (body.get("meters") or [{}])[0]
        except (KeyError, IndexError, TypeError) as err:
            raise DeviceResponseError(f"unexpected /status answer: {body!r}") from err
        return SwitchStatus(
            on=bool(relay["ison"]),
            watts=meter.get("power"),
            timer_remaining=relay.get("timer_remaining") if relay.get("has_timer") else None,
        )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        url = f"http://{self.host}:{self.port}{path}"
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.get(url, params=params, headers=self._headers) as response:
                    if response.status == 401:
                        raise DeviceAuthError(f"{self.host}:{self.port} refused the credentials")
                    if response.status >= 400:
                        text = (await response.text())[:200]
                        raise DeviceResponseError(f"HTTP {response.status} from {path}: {text}")
                    body: dict[str, Any] = await response.json(content_type=None)
                    return body
        except TimeoutError as err:
            raise DeviceConnectionError(f"{self.host}:{self.port} timed out") from err
        except (aiohttp.ClientError, OSError) as err:
            raise DeviceConnectionError(f"{self.host}:{self.port}: {err}") from err
        except ValueError as err:  # not JSON
            raise DeviceResponseError(f"{self.host}:{self.port} sent invalid JSON") from err


def _gen1_relay(body: dict[str, Any]) -> SwitchStatus:
    if "ison" not in body:
        raise DeviceResponseError(f"unexpected /relay answer: {body!r}")
    remaining = body.get("timer_remaining") if body.get("has_timer") else None
    return SwitchStatus(on=bool(body["ison"]), watts=None, timer_remaining=remaining)


class ShellyGen2:
    """A Gen2+ plug (Plus Plug S, Gen3/Gen4) through aioshelly's RPC device.

    The WebSocket is opened lazily and re-opened after it drops, so a plug that reboots or
    was unreachable at start-up is picked up again on the next call.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int = 80,
        *,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.host, self.port = host, port
        self._session = session
        self._options = ConnectionOptions(
            ip_address=host,
            port=port,
            username=GEN2_USERNAME if password else None,
            password=password,
        )
        self._timeout = timeout
        self._device: RpcDevice | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def create(cls, session: aiohttp.ClientSession, host: str, **kwargs: Any) -> ShellyGen2:
        plug = cls(session, host, **kwargs)
        await plug.initialize()
        return plug

    async def initialize(self) -> None:
        async with self._lock:
            await self._connect()

    async def shutdown(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            await device.shutdown()

    async def turn_on(self, auto_off_seconds: int | None = None) -> SwitchStatus:
        params: dict[str, Any] = {"id": 0, "on": True}
        if auto_off_seconds is not None:
            params["toggle_after"] = max(1, int(auto_off_seconds))
        await self._call("Switch.Set", params)
        return await self.status()

    async def turn_off(self) -> SwitchStatus:
        await self._call("Switch.Set", {"id": 0, "on": False})
        return await self.status()

    async def status(self) -> SwitchStatus:
        body = await self._call("Switch.GetStatus", {"id": 0})
        if "output" not in body:
            raise DeviceResponseError(f"unexpected Switch.GetStatus answer: {body!r}")
        remaining = None
        if body.get("timer_duration") and body.get("timer_started_at"):
            ends_at = float(body["timer_started_at"]) + float(body["timer_duration"])
            remaining = max(0.0, round(ends_at - time.time(), 1))
        return SwitchStatus(
            on=bool(body["output"]), watts=body.get("apower"), timer_remaining=remaining
        )

    async def _connect(self) -> None:
        if self._device is not None and self._device.connected:
            return
        if self._device is not None:
            await self._device.shutdown()
        device = await RpcDevice.create(self._session, None, self._options)
        self._device = device
        await self._guard(device.initialize())

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            await self._connect()
            assert self._device is not None
            result: dict[str, Any] = await self._guard(
                self._device.call_rpc(method, params, self._timeout)
            )
            return result

    async def _guard(self, call: Any) -> Any:
        """Runs one aioshelly call under our timeout and maps its errors onto ours."""
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except TimeoutError as err:
            await self._drop()
            raise DeviceConnectionError(f"{where} timed out") from err
        except InvalidAuthError as err:
            raise DeviceAuthError(f"{where} refused the credentials") from err
        except RpcCallError as err:
            raise DeviceResponseError(f"{where}: RPC error {err.code} {err.message}") from err
        except (ShellyConnectionError, aiohttp.ClientError, OSError, RuntimeError) as err:
            await self._drop()  # RuntimeError: aioshelly's "Not connected" after a drop
            raise DeviceConnectionError(f"{where}: {err!r}") from err
        except ShellyError as err:
            raise DeviceResponseError(f"{where}: {err!r}") from err

    async def _drop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            # a broken link may fail to close; it is gone anyway
            with contextlib.suppress(Exception):
                await device.shutdown()


def create_plug(
    session: aiohttp.ClientSession,
    generation: int,
    host: str,
    port: int,
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ShellyPlug:
    """A driver for a plug of ``generation`` (not yet connected: it connects on first use)."""
    if generation == 1:
        return ShellyGen1(
            session, host, port, username=username, password=password, timeout=timeout
        )
    return ShellyGen2(session, host, port, password=password, timeout=timeout)
