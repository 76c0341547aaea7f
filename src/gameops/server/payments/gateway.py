"""The card payment gateway: an interface, and its Stripe implementation on the official
``stripe`` SDK (pointed at ``gameops sim stripe`` by ``stripe_api_base`` in tests and demos).

Errors a caller must handle are :class:`GatewayUnavailable` (nothing reached the gateway,
or we cannot tell: retry later; never assume a charge failed) and :class:`GatewayRejected`
(the gateway answered with an error). Both carry a message fit for staff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import stripe

from gameops.server.payments.domain import Intent, IntentStatus
from gameops.server.settings import Settings


class GatewayError(Exception):
    pass


class GatewayUnavailable(GatewayError):
    """Connection refused, or no answer in time (the request may still have been done)."""


class GatewayRejected(GatewayError):
    """The gateway answered with an error: bad request, bad credentials, its own failure."""


class InvalidWebhook(GatewayError):
    pass


@dataclass(frozen=True)
class WebhookEvent:
    type: str
    intent: Intent


class PaymentGateway(Protocol):
    async def create_intent(
        self, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    async def retrieve_intent(self, intent_id: str) -> Intent: ...

    async def cancel_intent(self, intent_id: str, idempotency_key: str) -> Intent: ...

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent: ...


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        webhook_secret: str | None,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 1,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            http_client=stripe.HTTPXClient(timeout=timeout),
            # The SDK re-sends a retried POST with the same Idempotency-Key: never twice.
            max_network_retries=max_retries,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        if settings.stripe_api_key is None:
            raise ValueError("payment_gateway=stripe needs stripe_api_key")
        secret = settings.stripe_webhook_secret
        return cls(
            settings.stripe_api_key.get_secret_value(),
            secret.get_secret_value() if secret else None,
            settings.stripe_api_base,
            settings.gateway_timeout_seconds,
            settings.gateway_max_retries,
        )

    async def create_intent(
        self, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        params: Any = {"amount": amount, "currency": currency.lower(), "metadata": metadata}
        options: Any = {"idempotency_key": idempotency_key}
        async with _translated():
            intent = await self._client.v1.payment_intents.create_async(params, options)
        return _intent(intent)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        async with _translated():
            intent = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return _intent(intent)

    async def cancel_intent(self, intent_id: str, idempotency_key: str) -> Intent:
        options: Any = {"idempotency_key": idempotency_key}
        async with _translated():
            intent = await self._client.v1.payment_intents.cancel_async(intent_id, None, options)
        return _intent(intent)

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        if not self._webhook_secret:
            raise InvalidWebhook("Webhooks are not configured (no stripe_webhook_secret)")
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as err:
            raise InvalidWebhook(f"Invalid webhook: {err}") from err
        return WebhookEvent(type=event["type"], intent=_intent(event["data"]["object"]))


def _intent(resource: Any) -> Intent:
    obj = resource.to_dict() if isinstance(resource, stripe.StripeObject) else resource
    error = obj.get("last_payment_error")
    return Intent(
        id=obj["id"],
        status=IntentStatus(obj["status"]),
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        client_secret=obj.get("client_secret") or "",
        latest_charge=obj.get("latest_charge"),
        failure_message=error.get("message") if error else None,
    )


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """Turns the SDK's exceptions into ours, keeping the cause for the logs."""
    try:
        yield
    except stripe.APIConnectionError as err:
        waited = isinstance(err.__cause__, httpx.TimeoutException)
        reason = "did not answer in time" if waited else "is unreachable"
        raise GatewayUnavailable(f"Payment gateway {reason}") from err
    except stripe.StripeError as err:
        raise GatewayRejected(f"Payment gateway error: {err.user_message or err}") from err
