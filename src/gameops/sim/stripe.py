"""A Stripe emulator: a loopback HTTP server speaking the subset of Stripe's REST API that
GameOps uses, so the real ``stripe`` SDK can be tested (and demoed) without the internet.

Covered: PaymentIntents create / retrieve / confirm / cancel; Stripe's error shape
(``{"error": {"type", "code", "message", "param"}}``) and status codes; API-key auth;
``Idempotency-Key`` with Stripe's documented semantics (the same key replays the first
answer with ``Idempotent-Replayed: true``; the same key with other parameters is a 400
``idempotency_error``); and webhooks signed as Stripe signs them
(``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``).

Test cards, as in Stripe's test mode: ``pm_card_visa`` succeeds; ``pm_card_chargeDeclined``
is declined. Fault injection for tests lives under ``/_sim/`` (not part of Stripe's API):
make the next N requests fail with a status, or answer only after a delay (the work is
done first, as when a network drops a response).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_API_KEY = "sk_test_gameops_emulator"
DEFAULT_WEBHOOK_SECRET = "whsec_gameops_emulator"
DECLINING_CARDS = {"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"}
SUCCEEDING_CARDS = {"pm_card_visa", "pm_card_mastercard"}
CURRENCIES = {"usd", "eur", "gbp", "cad", "aud", "pln", "sek", "nok", "dkk", "chf", "jpy"}


class StripeError(Exception):
    def __init__(
        self, status: int, kind: str, message: str, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "code": code, **extra}}


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with a webhook."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def parse_form(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding, nested keys included: ``metadata[k]=v`` -> {"metadata": {k: v}}."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if "[" in key and key.endswith("]"):
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


@dataclass
class Faults:
    fail_status: int = 0
    fail_count: int = 0
    delay_seconds: float = 0.0
    delay_count: int = 0


@dataclass
class StripeEmulator:
    api_key: str = DEFAULT_API_KEY
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_url: str | None = None
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[tuple[str, str]] = field(default_factory=list)
    webhooks_sent: list[dict[str, Any]] = field(default_factory=list)
    _replies: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    # --- PaymentIntents ---------------------------------------------------------------

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount, currency = _amount(params), _currency(params)
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "metadata": params.get("metadata", {}),
            "latest_charge": None,
            "last_payment_error": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        if params.get("payment_method") and params.get("confirm") == "true":
            return self.confirm_intent(intent_id, params)
        return intent

    def get_intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                "resource_missing",
                param="intent",
            )
        return intent

    def confirm_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.get_intent(intent_id)
        if intent["status"] in ("succeeded", "canceled"):
            raise _unexpected_state(intent, "confirm")
        card = params.get("payment_method")
        if card in DECLINING_CARDS:
            return self._decline(intent)
        if card not in SUCCEEDING_CARDS:
            raise StripeError(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{card}'",
                "resource_missing",
                param="payment_method",
            )
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=f"ch_{secrets.token_hex(12)}",
            last_payment_error=None,
        )
        self._notify("payment_intent.succeeded", intent)
        return intent

    def cancel_intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.get_intent(intent_id)
        if intent["status"] in ("succeeded", "canceled"):
            raise _unexpected_state(intent, "cancel")
        intent["status"] = "canceled"
        self._notify("payment_intent.canceled", intent)
        return intent

    def _decline(self, intent: dict[str, Any]) -> dict[str, Any]:
        error = {
            "type": "card_error",
            "code": "card_declined",
            "message": "Your card was declined.",
        }
        intent.update(status="requires_payment_method", last_payment_error=error)
        self._notify("payment_intent.payment_failed", intent)
        raise StripeError(
            402,
            "card_error",
            "Your card was declined.",
            "card_declined",
            decline_code="generic_decline",
            payment_intent=intent,
        )

    # --- webhooks ---------------------------------------------------------------------

    def _notify(self, event_type: str, intent: dict[str, Any]) -> None:
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2024-06-20",
            "data": {"object": dict(intent)},
        }
        self.webhooks_sent.append(event)
        if self.webhook_url:
            task = asyncio.get_running_loop().create_task(self._deliver(self.webhook_url, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, event: dict[str, Any]) -> None:
        payload = json.dumps(event)
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign_payload(payload, self.webhook_secret),
        }
        async with httpx.AsyncClient(timeout=10) as client:
            # Stripe would retry later; the server's reconciliation covers a lost delivery.
            with contextlib.suppress(httpx.HTTPError):
                await client.post(url, content=payload, headers=headers)

    # --- idempotency ------------------------------------------------------------------

    def replay(self, key: str, fingerprint: str) -> tuple[int, dict[str, Any]] | None:
        stored = self._replies.get(key)
        if stored is None:
            return None
        if stored[0] != fingerprint:
            raise StripeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        return stored[1], stored[2]

    def remember(self, key: str, fingerprint: str, status: int, body: dict[str, Any]) -> None:
        self._replies[key] = (fingerprint, status, body)


def _amount(params: dict[str, Any]) -> int:
    raw = params.get("amount")
    if raw is None:
        raise StripeError(
            400,
            "invalid_request_error",
            "Missing required param: amount.",
            "parameter_missing",
            param="amount",
        )
    if not str(raw).isdigit() or int(raw) < 1:
        raise StripeError(
            400,
            "invalid_request_error",
            "Invalid integer: amount must be at least 1",
            "parameter_invalid_integer",
            param="amount",
        )
    return int(raw)


def _currency(params: dict[str, Any]) -> str:
    currency = str(params.get("currency", "")).lower()
    if currency not in CURRENCIES:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Invalid currency: {currency}.",
            "parameter_invalid_string",
            param="currency",
        )
    return currency


def _unexpected_state(intent: dict[str, Any], action: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        "payment_intent_unexpected_state",
        payment_intent=intent,
    )


def create_app(emulator: StripeEmulator) -> Starlette:
    async def handle(request: Request) -> Response:
        emulator.requests.append((request.method, request.url.path))
        if emulator.faults.fail_count > 0:
            emulator.faults.fail_count -= 1
            error = StripeError(emulator.faults.fail_status, "api_error", "Emulated outage.")
            return JSONResponse(error.body, status_code=error.status)
        status, body, replayed = await _answer(emulator, request)
        if emulator.faults.delay_count > 0:
            # The work is done; only the answer is late (a timeout after charging).
            emulator.faults.delay_count -= 1
            await asyncio.sleep(emulator.faults.delay_seconds)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        headers["Request-Id"] = f"req_{secrets.token_hex(8)}"
        return JSONResponse(body, status_code=status, headers=headers)

    async def control(request: Request) -> Response:
        body = await request.json()
        if request.path_params["what"] == "faults":
            emulator.faults = Faults(**body)
        elif request.path_params["what"] == "webhook":
            emulator.webhook_url = body.get("url")
        else:
            return JSONResponse({"error": "unknown control"}, status_code=404)
        return JSONResponse({"ok": True})

    routes = [
        Route("/_sim/{what}", control, methods=["POST"]),
        Route("/v1/payment_intents", handle, methods=["POST"]),
        Route("/v1/payment_intents/{intent}", handle, methods=["GET"]),
        Route("/v1/payment_intents/{intent}/{action}", handle, methods=["POST"]),
    ]
    return Starlette(routes=routes)


async def _answer(emulator: StripeEmulator, request: Request) -> tuple[int, dict[str, Any], bool]:
    key = request.headers.get("Idempotency-Key")
    params = parse_form(await request.body()) if request.method == "POST" else {}
    fingerprint = json.dumps([request.url.path, params], sort_keys=True)
    try:
        _authenticate(emulator, request)
        if key and request.method == "POST":
            stored = emulator.replay(key, fingerprint)
            if stored is not None:
                return stored[0], stored[1], True
        status, body = 200, _route(emulator, request, params)
    except StripeError as err:
        status, body = err.status, err.body
    if key and request.method == "POST" and status != 401:
        emulator.remember(key, fingerprint, status, body)
    return status, body, False


def _authenticate(emulator: StripeEmulator, request: Request) -> None:
    given = _api_key(request.headers.get("Authorization", ""))
    if given != emulator.api_key:
        shown = given[:8] + "*" * max(0, len(given) - 12) + given[-4:] if given else ""
        raise StripeError(401, "invalid_request_error", f"Invalid API Key provided: {shown}")


def _api_key(authorization: str) -> str:
    """Stripe takes the key as a bearer token or as the Basic-auth user (``curl -u sk_..:``)."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):
            return base64.b64decode(value).decode().split(":", 1)[0]
    return value.strip() if scheme.lower() == "bearer" else ""


def _route(emulator: StripeEmulator, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    intent_id = request.path_params.get("intent")
    action = request.path_params.get("action")
    if intent_id is None:
        return emulator.create_intent(params)
    if request.method == "GET":
        return emulator.get_intent(intent_id)
    if action == "confirm":
        return emulator.confirm_intent(intent_id, params)
    if action == "cancel":
        return emulator.cancel_intent(intent_id)
    raise StripeError(404, "invalid_request_error", f"Unrecognized request URL: {request.url.path}")


def run(host: str, port: int, api_key: str, webhook_secret: str, webhook_url: str | None) -> None:
    """Serve the emulator until interrupted (``gameops sim stripe``)."""
    import uvicorn

    emulator = StripeEmulator(
        api_key=api_key, webhook_secret=webhook_secret, webhook_url=webhook_url
    )
    print(
        f"Stripe emulator on http://{host}:{port}\n"
        f"  GAMEOPS_PAYMENT_GATEWAY=stripe\n"
        f"  GAMEOPS_STRIPE_API_BASE=http://{host}:{port}\n"
        f"  GAMEOPS_STRIPE_API_KEY={api_key}\n"
        f"  GAMEOPS_STRIPE_WEBHOOK_SECRET={webhook_secret}\n"
        f"  webhooks to: {webhook_url or '(none yet; POST /_sim/webhook with a url)'}",
        flush=True,
    )
    uvicorn.run(create_app(emulator), host=host, port=port, log_level="warning")
