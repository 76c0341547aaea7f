"""A MikroTik router on loopback speaking the RouterOS API (the binary sentence protocol).

Supports ``/login`` (plain, RouterOS >= 6.43), and ``print``/``add``/``set``/``remove`` on
``/ip/firewall/filter``, ``/ip/firewall/address-list`` (entries with a ``timeout`` expire),
``/ip/dhcp-server/lease`` and ``/ip/arp`` (the neighbours it sees). State lives in memory:
a restarted simulator is a router that came back empty. Optional TLS (api-ssl). Fault
modes: ``timeout`` (logs in, then never answers), ``error`` (logs in, then traps every
command).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Fault = Literal["none", "timeout", "error"]
Sentence = list[str]
TABLES = ("/ip/firewall/filter", "/ip/firewall/address-list", "/ip/dhcp-server/lease", "/ip/arp")


# The codec: sans-I/O, tested on its own. -------------------------------------------


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    return (length | 0xE0000000).to_bytes(4, "big")


def encode_sentence(words: Sentence) -> bytes:
    out = b"".join(encode_length(len(w.encode())) + w.encode() for w in words)
    return out + b"\x00"


async def read_word(reader: asyncio.StreamReader) -> str:
    first = (await reader.readexactly(1))[0]
    extra, mask = next((n, m) for limit, n, m in _LENGTH_BYTES if first < limit)
    raw = bytes([first]) + (await reader.readexactly(extra) if extra else b"")
    length = int.from_bytes(raw, "big") ^ mask
    return (await reader.readexactly(length)).decode() if length else ""


_LENGTH_BYTES = ((0x80, 0, 0), (0xC0, 1, 0x8000), (0xE0, 2, 0xC00000), (0xF0, 3, 0xE0000000))


async def read_sentence(reader: asyncio.StreamReader) -> Sentence:
    words = []
    while word := await read_word(reader):
        words.append(word)
    return words


def parse_attributes(words: Sentence) -> dict[str, str]:
    """``=key=value`` words to a dict (query words ``?`` and tags ``.tag`` are ignored)."""
    attributes = {}
    for word in words:
        if word.startswith("="):
            key, _, value = word[1:].partition("=")
            attributes[key] = value
    return attributes


def parse_duration(text: str) -> float:
    """RouterOS durations: ``90s``, ``1h2m3s``, ``1d``, ``00:10:00`` or plain seconds."""
    if ":" in text:
        h, m, s = (int(p) for p in text.split(":"))
        return h * 3600 + m * 60 + s
    if text.isdigit():
        return float(text)
    units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([wdhms])", text)
    if not parts:
        raise ValueError(text)
    return float(sum(int(n) * units[u] for n, u in parts))


# The router's state. ----------------------------------------------------------------


@dataclass
class Table:
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    expires: dict[str, float] = field(default_factory=dict)

    def purge(self) -> None:
        now = time.monotonic()
        for row_id in [i for i, at in self.expires.items() if at <= now]:
            self.rows.pop(row_id, None)
            self.expires.pop(row_id, None)

    def view(self) -> Iterator[dict[str, str]]:
        self.purge()
        for row_id, row in self.rows.items():
            shown = {".id": row_id, **row}
            if row_id in self.expires:
                shown["timeout"] = f"{max(0, int(self.expires[row_id] - time.monotonic()))}s"
                shown["dynamic"] = "true"
            yield shown


@dataclass
class RouterState:
    tables: dict[str, Table] = field(default_factory=lambda: {t: Table() for t in TABLES})
    next_id: int = 1

    def add(self, path: str, attributes: dict[str, str]) -> str:
        row_id = f"*{self.next_id:X}"
        self.next_id += 1
        timeout = attributes.pop("timeout", None)
        table = self.tables[path]
        table.rows[row_id] = {"disabled": "false", **attributes}
        if timeout and path == "/ip/firewall/address-list":
            table.expires[row_id] = time.monotonic() + parse_duration(timeout)
        return row_id

    def remove(self, path: str, ids: str) -> None:
        table = self.tables[path]
        table.purge()
        wanted = ids.split(",")
        missing = [i for i in wanted if i not in table.rows]
        if missing:
            raise LookupError("no such item")
        for row_id in wanted:
            table.rows.pop(row_id)
            table.expires.pop(row_id, None)

    def set(self, path: str, attributes: dict[str, str]) -> None:
        table = self.tables[path]
        row_id = attributes.pop(".id", "")
        if row_id not in table.rows:
            raise LookupError("no such item")
        if "timeout" in attributes:
            table.expires[row_id] = time.monotonic() + parse_duration(attributes.pop("timeout"))
        table.rows[row_id].update(attributes)

    def rows(self, path: str) -> list[dict[str, str]]:
        return list(self.tables[path].view())


class CommandError(Exception):
    pass


def execute(state: RouterState, command: str, attributes: dict[str, str]) -> list[Sentence]:
    """One API command to its reply sentences (without the final ``!done``)."""
    path, _, verb = command.rpartition("/")
    if path not in state.tables:
        raise CommandError("no such command prefix")
    if verb == "print":
        return [["!re", *(f"={k}={v}" for k, v in row.items())] for row in state.rows(path)]
    try:
        if verb == "add":
            return [["!done", f"=ret={state.add(path, dict(attributes))}"]]
        if verb == "remove":
            state.remove(path, attributes.get(".id", ""))
            return []
        if verb == "set":
            state.set(path, dict(attributes))
            return []
    except (LookupError, ValueError) as err:
        raise CommandError(str(err) or "invalid value") from err
    raise CommandError("no such command")


# The server. ------------------------------------------------------------------------


@dataclass
class RouterOsSimulator:
    port: int = 0
    host: str = "127.0.0.1"
    username: str = "admin"
    password: str = ""
    ssl_context: ssl.SSLContext | None = None
    fault: Fault = "none"
    state: RouterState = field(default_factory=RouterState)
    commands: int = 0
    _server: asyncio.Server | None = None
    _clients: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Closes the listener and drops every client, like a router going down."""
        if self._server is not None:
            self._server.close()
            for writer in tuple(self._clients):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    def add_lease(self, mac: str, address: str) -> None:
        self.state.add("/ip/dhcp-server/lease", {"mac-address": mac, "address": address})

    def add_neighbour(self, mac: str, address: str, status: str = "reachable") -> None:
        """An ARP entry, as RouterOS 7 shows it: ``reachable`` while the host answers."""
        self.state.add("/ip/arp", {"mac-address": mac, "address": address, "status": status})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        logged_in = False
        try:
            while True:
                words = await read_sentence(reader)
                if not words:
                    continue
                replies, logged_in = await self._answer(words, logged_in)
                writer.write(b"".join(encode_sentence(s) for s in replies))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, words: Sentence, logged_in: bool) -> tuple[list[Sentence], bool]:
        command, attributes = words[0], parse_attributes(words[1:])
        if command == "/login":
            if attributes.get("name") == self.username and attributes.get("password") == (
                self.password
            ):
                return [["!done"]], True
            return _trap("invalid user name or password (6)"), False
        if not logged_in:
            return _trap("not logged in"), False
        self.commands += 1
        if self.fault == "timeout":
            await asyncio.sleep(3600)
        if self.fault == "error":
            return _trap("failure: simulated router error"), True
        try:
            replies = execute(self.state, command, attributes)
        except CommandError as err:
            return _trap(str(err)), True
        if replies and replies[-1][0] == "!done":
            return replies, True
        return [*replies, ["!done"]], True


def _trap(message: str) -> list[Sentence]:
    return [["!trap", f"=message={message}"], ["!done"]]


def self_signed_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


async def serve(port: int, username: str, password: str, fault: Fault = "none") -> None:
    """Runs one router until interrupted (the ``gameops sim routeros`` command)."""
    router = RouterOsSimulator(port=port, username=username, password=password, fault=fault)
    await router.start()
    print(f"RouterOS API simulator on {router.host}:{router.port} (user {username!r})")
    try:
        await asyncio.Event().wait()
    finally:
        await router.stop()
