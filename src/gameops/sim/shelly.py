"""A Shelly smart plug on loopback, speaking the real APIs so real clients can drive it.

Gen1: ``GET /shelly``, ``/status``, ``/relay/0?turn=on|off|toggle&timer=N`` (basic auth when
credentials are set). Gen2: JSON-RPC frames on the WebSocket ``/rpc`` (what aioshelly uses)
with Shelly's SHA-256 digest auth, and ``GET /rpc/<Method>`` for curl. The relay keeps its
state, draws power that rises after it is switched on, and honours auto-off timers.

Fault modes: ``timeout`` (accepts requests and never answers), ``error`` (answers every
switch or status request with an error).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

Fault = Literal["none", "timeout", "error"]
IDLE_WATTS, FULL_WATTS, RAMP_SECONDS = 1.5, 85.0, 20.0
GEN2_HA2 = hashlib.sha256(b"dummy_method:dummy_uri").hexdigest()


@dataclass
class Relay:
    """The switch: state, when it last went on, and its auto-off deadline (monotonic)."""

    on: bool = False
    on_since: float = 0.0
    timer_duration: float | None = None
    timer_deadline: float | None = None
    switched: int = 0

    def set(self, on: bool, timer: float | None = None) -> bool:
        was_on = self.on
        if on and not was_on:
            self.on_since = time.monotonic()
        self.on = on
        self.switched += 1
        self.timer_duration = timer if timer else None
        self.timer_deadline = time.monotonic() + timer if timer else None
        return was_on

    def tick(self) -> None:
        """A due auto-off timer flips the relay (a Shelly timer toggles; ours are 'off')."""
        if self.timer_deadline is not None and time.monotonic() >= self.timer_deadline:
            self.set(not self.on)

    @property
    def watts(self) -> float:
        if not self.on:
            return 0.0
        ramp = min(1.0, (time.monotonic() - self.on_since) / RAMP_SECONDS)
        return round(IDLE_WATTS + (FULL_WATTS - IDLE_WATTS) * ramp, 1)

    @property
    def timer_remaining(self) -> float:
        if self.timer_deadline is None:
            return 0
        return max(0.0, round(self.timer_deadline - time.monotonic(), 1))


@dataclass
class ShellySimulator:
    gen: int = 1
    port: int = 0
    host: str = "127.0.0.1"
    username: str | None = None
    password: str | None = None
    fault: Fault = "none"
    mac: str = field(default_factory=lambda: "A8032A" + secrets.token_hex(3).upper())
    relay: Relay = field(default_factory=Relay)
    requests: int = 0
    _runner: web.AppRunner | None = None
    _ticker: asyncio.Task[None] | None = None

    @property
    def device_id(self) -> str:
        return (
            f"shellyplusplugs-{self.mac.lower()}" if self.gen >= 2 else f"shellyplug-s-{self.mac}"
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/shelly", self._shelly_info)
        if self.gen == 1:
            app.router.add_get("/status", self._gen1_status)
            app.router.add_get("/relay/0", self._gen1_relay)
        else:
            app.router.add_get("/rpc", self._gen2_socket)
            app.router.add_get("/rpc/{method}", self._gen2_http)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def press_button(self) -> None:
        """Someone pressed the plug's button: it toggles, with no timer."""
        self.relay.set(not self.relay.on)

    async def _tick(self) -> None:
        while True:
            self.relay.tick()
            await asyncio.sleep(0.05)

    async def _misbehave(self) -> None:
        self.requests += 1
        if self.fault == "timeout":
            await asyncio.sleep(3600)
        if self.fault == "error":
            raise web.HTTPInternalServerError(text="simulated device error")

    # Gen1 -----------------------------------------------------------------------------

    async def _shelly_info(self, _: web.Request) -> web.Response:
        if self.gen == 1:
            auth = bool(self.username)
            return web.json_response(
                {"type": "SHPLG-S", "mac": self.mac, "auth": auth, "fw": "20230913-112003/v1.14.0"}
            )
        return web.json_response(self._device_info())

    async def _gen1_status(self, request: web.Request) -> web.Response:
        self._check_basic(request)
        await self._misbehave()
        relay = self._gen1_relay_body()
        meter = {"power": self.relay.watts, "is_valid": True, "total": 0}
        return web.json_response({"relays": [relay], "meters": [meter], "mac": self.mac})

    async def _gen1_relay(self, request: web.Request) -> web.Response:
        self._check_basic(request)
        await self._misbehave()
        turn = request.query.get("turn")
        timer = float(request.query.get("timer", 0) or 0)
        if turn in ("on", "off", "toggle"):
            target = (not self.relay.on) if turn == "toggle" else turn == "on"
            self.relay.set(target, timer)
        elif turn is not None:
            raise web.HTTPBadRequest(text="Bad turn!")
        return web.json_response(self._gen1_relay_body())

    def _gen1_relay_body(self) -> dict[str, Any]:
        has_timer = self.relay.timer_deadline is not None
        return {
            "ison": self.relay.on,
            "has_timer": has_timer,
            "timer_duration": self.relay.timer_duration or 0,
            "timer_remaining": self.relay.timer_remaining,
            "source": "http",
        }

    def _check_basic(self, request: web.Request) -> None:
        if not self.username:
            return
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            raise web.HTTPUnauthorized(text="401 Unauthorized")

    # Gen2 -----------------------------------------------------------------------------

    def _device_info(self) -> dict[str, Any]:
        return {
            "name": None,
            "id": self.device_id,
            "mac": self.mac,
            "model": "SNPL-00112EU",
            "gen": self.gen,
            # Before 2024-02-13: aioshelly then skips virtual components, which plugs lack.
            "fw_id": "20231107-164738/1.0.8-g0d4c3b3",
            "ver": "1.0.8",
            "app": "PlusPlugS",
            "auth_en": bool(self.password),
            "auth_domain": None,
        }

    def _switch_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "id": 0,
            "source": "WS_in",
            "output": self.relay.on,
            "apower": self.relay.watts,
            "voltage": 230.1,
            "current": round(self.relay.watts / 230.1, 3),
            "aenergy": {"total": 0.0},
            "temperature": {"tC": 38.0},
        }
        if self.relay.timer_deadline is not None and self.relay.timer_duration:
            elapsed = self.relay.timer_duration - self.relay.timer_remaining
            status["timer_started_at"] = round(time.time() - elapsed, 2)
            status["timer_duration"] = self.relay.timer_duration
        return status

    def _rpc(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "Shelly.GetDeviceInfo":
            return self._device_info()
        if method == "Shelly.GetConfig":
            return {"switch:0": {"id": 0, "name": None}, "sys": {"device": {"mac": self.mac}}}
        if method == "Shelly.GetStatus":
            return {"switch:0": self._switch_status(), "sys": {"mac": self.mac, "uptime": 1}}
        if method == "Switch.GetStatus":
            return self._switch_status()
        if method == "Switch.Set":
            was_on = self.relay.set(bool(params["on"]), params.get("toggle_after"))
            return {"was_on": was_on}
        if method == "Switch.Toggle":
            return {"was_on": self.relay.set(not self.relay.on)}
        raise KeyError(method)

    async def _gen2_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        auth = DigestAuth(self.device_id, self.password) if self.password else None
        async for message in socket:
            if message.type is not WSMsgType.TEXT:
                continue
            reply = await self._gen2_frame(json.loads(message.data), auth)
            await socket.send_str(json.dumps(reply))
        return socket

    async def _gen2_frame(self, frame: dict[str, Any], auth: DigestAuth | None) -> dict[str, Any]:
        head = {"id": frame.get("id"), "src": self.device_id, "dst": frame.get("src")}
        method, params = frame.get("method", ""), frame.get("params") or {}
        if auth is not None and method != "Shelly.GetDeviceInfo" and not auth.check(frame):
            return {**head, "error": {"code": 401, "message": json.dumps(auth.challenge())}}
        if method.startswith("Switch."):
            self.requests += 1
            if self.fault == "timeout":
                await asyncio.sleep(3600)
            if self.fault == "error":
                return {**head, "error": {"code": -114, "message": "simulated device error"}}
        try:
            return {**head, "result": self._rpc(method, params)}
        except KeyError:
            return {**head, "error": {"code": 404, "message": f"No handler for {method}"}}

    async def _gen2_http(self, request: web.Request) -> web.Response:
        if self.password:  # HTTP digest is not simulated; the WebSocket path carries auth
            raise web.HTTPUnauthorized()
        method = request.match_info["method"]
        params: dict[str, Any] = {k: _query_value(v) for k, v in request.query.items()}
        if method.startswith("Switch."):
            await self._misbehave()
        try:
            return web.json_response(self._rpc(method, params))
        except KeyError as err:
            raise web.HTTPNotFound(text=f"No handler for {method}") from err


def _query_value(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class DigestAuth:
    """Shelly Gen2 RPC auth: SHA-256 over user, realm and password, with a server nonce."""

    def __init__(self, realm: str, password: str) -> None:
        self.realm = realm
        self._ha1 = hashlib.sha256(f"admin:{realm}:{password}".encode()).hexdigest()
        self._nonce = int(time.time())

    def challenge(self) -> dict[str, Any]:
        self._nonce = int(time.time()) + secrets.randbelow(1000)
        return {
            "auth_type": "digest",
            "nonce": self._nonce,
            "nc": 1,
            "realm": self.realm,
            "algorithm": "SHA-256",
        }

    def check(self, frame: dict[str, Any]) -> bool:
        auth = frame.get("auth")
        if not isinstance(auth, dict) or auth.get("nonce") != self._nonce:
            return False
        text = f"{self._ha1}:{auth['nonce']}:{auth['nc']}:{auth['cnonce']}:auth:{GEN2_HA2}"
        return hashlib.sha256(text.encode()).hexdigest() == auth.get("response")


async def serve(
    gen: int, port: int, username: str | None, password: str | None, fault: Fault = "none"
) -> None:
    """Runs one plug until interrupted (the ``gameops sim shelly`` command)."""
    plug = ShellySimulator(gen=gen, port=port, username=username, password=password, fault=fault)
    await plug.start()
    print(f"Shelly Gen{gen} simulator on http://{plug.host}:{plug.port} (mac {plug.mac})")
    try:
        await asyncio.Event().wait()
    finally:
        await plug.stop()
