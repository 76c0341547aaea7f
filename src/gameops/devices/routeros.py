"""MikroTik routers through the RouterOS API (``librouteros``), to cut a console's network.

Design (see docs/consoles.md): each managed console has one permanent filter rule,
``chain=forward src-mac-address=<MAC> src-address-list=!<list> action=drop``, tagged with the
comment ``gameops:<MAC>``. The console plays while its IP is in the address list ``<list>``;
that entry carries a ``timeout`` (session end plus a margin), so the router closes the door on
its own if the server is down. Blocking removes the entry; the rule itself never moves, so
concurrent sessions never touch each other's rules and a router reboot keeps the rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import librouteros
from librouteros.api import AsyncApi
from librouteros.exceptions import LibRouterosError, TrapError

from gameops.devices.errors import DeviceAuthError, DeviceConnectionError, DeviceResponseError

API_PORT, API_SSL_PORT = 8728, 8729
DEFAULT_LIST = "gameops-playing"
COMMENT_PREFIX = "gameops:"
FILTER = "/ip/firewall/filter"
REACHABLE = ("reachable", "delay", "probe", "permanent")  # RouterOS 7 neighbour states
ADDRESS_LIST = "/ip/firewall/address-list"
T = TypeVar("T")


@dataclass(frozen=True)
class AllowEntry:
    id: str
    mac: str
    address: str


def normalize_mac(mac: str) -> str:
    return mac.strip().upper().replace("-", ":")


def tag(mac: str) -> str:
    return f"{COMMENT_PREFIX}{normalize_mac(mac)}"


class RouterOs:
    """One router; calls are serialized on one API connection, opened again after a failure."""

    def __init__(
        self,
        host: str,
        port: int = API_SSL_PORT,
        *,
        username: str,
        password: str,
        ssl_context: ssl.SSLContext | None = None,
        address_list: str = DEFAULT_LIST,
        timeout: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self._username, self._password = username, password
        self._ssl = ssl_context
        self.address_list = address_list
        self._timeout = timeout
        self._api: AsyncApi | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def create(cls, host: str, **kwargs: Any) -> RouterOs:
        router = cls(host, **kwargs)
        await router.initialize()
        return router

    async def initialize(self) -> None:
        await self._run(lambda api: asyncio.sleep(0))

    async def shutdown(self) -> None:
        async with self._lock:
            await self._close()

    async def ensure_rule(self, mac: str) -> bool:
        """Adds the console's drop rule unless it exists; True if it had to be added."""
        return await self._run(lambda api: self._ensure_rule(api, mac))

    async def allow(self, mac: str, address: str, timeout_seconds: int) -> None:
        """Lets the console out until ``timeout_seconds`` from now (replacing any entry)."""
        await self._run(lambda api: self._allow(api, mac, address, timeout_seconds))

    async def block(self, mac: str) -> None:
        await self._run(lambda api: self._remove_entries(api, mac))

    async def allowed(self) -> list[AllowEntry]:
        return await self._run(self._entries)

    async def rules(self) -> set[str]:
        """MACs that have a GameOps drop rule on the router."""
        rows = await self._run(lambda api: _rows(api, FILTER))
        return {r["comment"][len(COMMENT_PREFIX) :] for r in rows if _ours(r)}

    async def lease_address(self, mac: str) -> str | None:
        """The console's IP from the router's DHCP leases, if it has one."""
        rows = await self._run(lambda api: _rows(api, "/ip/dhcp-server/lease"))
        for row in rows:
            if normalize_mac(str(row.get("mac-address", ""))) == normalize_mac(mac):
                return str(row["address"])
        return None

    async def sees(self, macs: list[str]) -> str | None:
        """Which of ``macs`` the router sees on the network now (its ARP entry is reachable,
        or complete on RouterOS 6), if any. A stale or failed entry is not seeing it."""
        wanted = {normalize_mac(mac) for mac in macs}
        rows = await self._run(lambda api: _rows(api, "/ip/arp"))
        for row in rows:
            mac = normalize_mac(str(row.get("mac-address", "")))
            status = str(row.get("status", "reachable" if row.get("complete") else ""))
            if mac in wanted and status in REACHABLE:
                return mac
        return None

    async def _ensure_rule(self, api: AsyncApi, mac: str) -> bool:
        if any(r.get("comment") == tag(mac) for r in await _rows(api, FILTER)):
            return False
        await api.path(FILTER).add(
            chain="forward",
            **{"src-mac-address": normalize_mac(mac)},
            **{"src-address-list": f"!{self.address_list}"},
            action="drop",
            comment=tag(mac),
        )
        return True

    async def _allow(self, api: AsyncApi, mac: str, address: str, seconds: int) -> None:
        await self._remove_entries(api, mac)
        await api.path(ADDRESS_LIST).add(
            list=self.address_list, address=address, timeout=f"{max(1, seconds)}s", comment=tag(mac)
        )

    async def _remove_entries(self, api: AsyncApi, mac: str) -> None:
        ids = [e.id for e in await self._entries(api) if e.mac == normalize_mac(mac)]
        if ids:
            await api.path(ADDRESS_LIST).remove(*ids)

    async def _entries(self, api: AsyncApi) -> list[AllowEntry]:
        rows = await _rows(api, ADDRESS_LIST)
        return [
            AllowEntry(str(r[".id"]), r["comment"][len(COMMENT_PREFIX) :], str(r["address"]))
            for r in rows
            if r.get("list") == self.address_list and _ours(r)
        ]

    async def _run(self, work: Callable[[AsyncApi], Awaitable[T]]) -> T:
        where = f"router {self.host}:{self.port}"
        async with self._lock:
            try:
                async with asyncio.timeout(self._timeout):
                    return await work(await self._connection())
            except TrapError as err:
                if "login" in str(err).lower() or "password" in str(err).lower():
                    await self._close()
                    raise DeviceAuthError(f"{where} refused the credentials") from err
                raise DeviceResponseError(f"{where}: {err}") from err
            except TimeoutError as err:
                await self._close()
                raise DeviceConnectionError(f"{where} timed out") from err
            except (LibRouterosError, OSError, EOFError, asyncio.IncompleteReadError) as err:
                await self._close()
                raise DeviceConnectionError(f"{where}: {err!r}") from err

    async def _connection(self) -> AsyncApi:
        if self._api is None:
            self._api = await librouteros.async_connect(
                self.host,
                self._username,
                self._password,
                port=self.port,
                ssl_wrapper=self._ssl,
                timeout=self._timeout,
            )
        return self._api

    async def _close(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            # closing a broken link; it is gone either way
            with contextlib.suppress(Exception):
                await api.close()


async def _rows(api: AsyncApi, path: str) -> list[dict[str, Any]]:
    return [dict(row) async for row in api.path(path)("print")]


def _ours(row: dict[str, Any]) -> bool:
    return str(row.get("comment", "")).startswith(COMMENT_PREFIX)
