"""The Stripe emulator, driven by the official SDK: the subset of the API GameOps uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe

from gameops.sim.stripe import sign_payload
from tests.support.stripe import EmulatorServer


@pytest.fixture
async def stripe_sim() -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer()
    await server.start()
    yield server
    await server.stop()


async def _create(sdk: stripe.StripeClient, key: str, amount: int = 1500) -> Any:
    params: Any = {"amount": amount, "currency": "usd", "metadata": {"payment_id": "p1"}}
    return await sdk.v1.payment_intents.create_async(params, {"idempotency_key": key})


async def test_create_pay_and_retrieve_an_intent(stripe_sim: EmulatorServer) -> None:
    sdk = stripe_sim.sdk()
    intent = await _create(sdk, "k1")
    assert intent.status == "requires_payment_method" and intent.amount == 1500
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.metadata["payment_id"] == "p1"
    paid = await stripe_sim.pay(intent.client_secret)
    assert paid.status == "succeeded" and paid.latest_charge.startswith("ch_")
    again = await sdk.v1.payment_intents.retrieve_async(intent.id)
    assert again.status == "succeeded"


async def test_idempotency_replays_and_refuses_other_parameters(
    stripe_sim: EmulatorServer,
) -> None:
    sdk = stripe_sim.sdk()
    first = await _create(sdk, "same-key")
    replay = await _create(sdk, "same-key")
    assert replay.id == first.id and len(stripe_sim.emulator.intents) == 1
    assert replay.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await _create(sdk, "same-key", amount=999)


async def test_errors_come_back_as_the_sdk_exceptions(stripe_sim: EmulatorServer) -> None:
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
        await _create(stripe_sim.sdk(api_key="sk_test_wrong"), "k")
    sdk = stripe_sim.sdk()
    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent") as missing:
        await sdk.v1.payment_intents.retrieve_async("pi_missing")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        params: Any = {"amount": 100, "currency": "xyz"}
        await sdk.v1.payment_intents.create_async(params)
    intent = await _create(sdk, "k2")
    with pytest.raises(stripe.CardError, match="declined") as declined:
        await stripe_sim.pay(intent.client_secret, "pm_card_chargeDeclined")
    assert declined.value.code == "card_declined"
    after = await sdk.v1.payment_intents.retrieve_async(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error["code"] == "card_declined"
    cancelled = await sdk.v1.payment_intents.cancel_async(intent.id)
    assert cancelled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError, match="status of canceled"):
        await sdk.v1.payment_intents.cancel_async(intent.id)


async def test_webhook_signatures_verify_with_the_sdk() -> None:
    payload = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
        }
    )
    header = sign_payload(payload, "whsec_test")
    event = stripe.Webhook.construct_event(payload, header, "whsec_test")
    assert event["type"] == "payment_intent.succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload + " ", header, "whsec_test")
    stale = sign_payload(payload, "whsec_test", timestamp=1_000_000_000)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(payload, stale, "whsec_test")
