"""Card payments end to end: the real server, the real stripe SDK, the Stripe emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from gameops.server.db.models import Payment
from gameops.server.payments.gateway import PaymentGateway
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, balance_of, create_customer, events_of, pc_station
from tests.support.stripe import EmulatorServer, free_port

WEBHOOK_PATH = f"{API}/payments/webhooks/stripe"


@pytest.fixture
async def stripe_sim() -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer()
    await server.start()
    yield server
    await server.stop()


async def _serve(database_url: str, data_dir: Path, api_base: str, **overrides: Any) -> LiveServer:
    settings = server_settings(
        database_url,
        data_dir,
        payment_gateway="stripe",
        stripe_api_base=api_base,
        stripe_api_key="sk_test_gameops_emulator",
        stripe_webhook_secret="whsec_gameops_emulator",
        gateway_timeout_seconds=1.0,
        gateway_max_retries=1,
        **{"payments_sweep_seconds": 3600.0, **overrides},
    )
    server = LiveServer(settings)
    await server.start()
    return server


@pytest.fixture
async def card_server(
    database_url: str, tmp_path: Path, stripe_sim: EmulatorServer
) -> AsyncIterator[LiveServer]:
    server = await _serve(database_url, tmp_path / "data", stripe_sim.base_url)
    yield server
    await server.close()


@pytest.fixture
async def staff(card_server: LiveServer) -> httpx.AsyncClient:
    return await card_server.admin_client()


async def _card_start(staff: httpx.AsyncClient, station_id: str, **extra: Any) -> httpx.Response:
    body = {"station_id": station_id, "duration_minutes": 60, "payment_method": "CARD", **extra}
    return await staff.post(f"{API}/sessions/start", json=body)


async def _payment(server: LiveServer, payment_id: str) -> Payment:
    async with server.services.database.sessionmaker() as db:
        payment = await db.get(Payment, uuid.UUID(payment_id))
    assert payment is not None
    return payment


def _gateway(server: LiveServer) -> PaymentGateway:
    gateway: PaymentGateway = server.app_state.payment_gateway
    return gateway


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 8) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_card_sale_waits_for_the_card_then_starts_on_confirm(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    station_id = await pc_station(staff, rate=600)
    pending = await _card_start(staff, station_id)
    assert pending.status_code == 202, pending.text
    body = pending.json()
    assert body["session"]["status"] == "PENDING_PAYMENT"
    assert body["payment"]["status"] == "PENDING" and body["payment"]["amount"] == 600
    [intent] = stripe_sim.emulator.intents.values()
    assert intent["amount"] == 600 and intent["metadata"]["payment_id"] == body["payment_id"]
    held = await _card_start(staff, station_id)
    assert held.status_code == 409 and "held for a card payment" in held.json()["detail"]

    confirm_url = f"{API}/payments/{body['payment_id']}/confirm"
    unpaid = await staff.post(confirm_url)
    assert unpaid.status_code == 402
    assert unpaid.json() == {
        "detail": "Payment required",
        "intent_status": "requires_payment_method",
    }

    await stripe_sim.pay(body["client_secret"])
    paid = await staff.post(confirm_url)
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "ACTIVE" and paid.json()["payment"]["status"] == "COMPLETED"
    payment = await _payment(card_server, body["payment_id"])
    assert payment.transaction_id == intent["latest_charge"]

    twice = await staff.post(confirm_url)
    assert twice.status_code == 409 and twice.json()["detail"] == "Payment already completed"
    assert len(await events_of(staff, "PAYMENT_CREATED")) == 1
    assert len(await events_of(staff, "PAYMENT_COMPLETED")) == 1
    assert len(await events_of(staff, "SESSION_CREATED")) == 1


async def test_retried_confirm_with_a_key_replays_the_first_answer(
    staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    body = (await _card_start(staff, await pc_station(staff))).json()
    await stripe_sim.pay(body["client_secret"])
    url, key = f"{API}/payments/{body['payment_id']}/confirm", {"Idempotency-Key": "c-1"}
    first, again = await staff.post(url, headers=key), await staff.post(url, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


async def test_a_declined_card_fails_the_payment_and_frees_the_station(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    station_id = await pc_station(staff)
    body = (await _card_start(staff, station_id)).json()
    with pytest.raises(stripe.CardError):
        await stripe_sim.pay(body["client_secret"], "pm_card_chargeDeclined")
    refused = await staff.post(f"{API}/payments/{body['payment_id']}/confirm")
    assert refused.status_code == 402
    assert refused.json()["detail"] == "Payment failed: Your card was declined."
    assert (await _payment(card_server, body["payment_id"])).status == "FAILED"
    session = (await staff.get(f"{API}/sessions/{body['session']['id']}")).json()
    assert session["status"] == "CANCELLED"
    assert len(await events_of(staff, "PAYMENT_FAILED")) == 1
    assert (await _card_start(staff, station_id)).status_code == 202  # sellable again


async def test_a_signed_webhook_settles_the_payment_without_a_confirm(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    stripe_sim.emulator.webhook_url = f"{card_server.base_url}{WEBHOOK_PATH}"
    body = (await _card_start(staff, await pc_station(staff))).json()
    await stripe_sim.pay(body["client_secret"])

    async def started() -> bool:
        session = (await staff.get(f"{API}/sessions/{body['session']['id']}")).json()
        return bool(session["status"] == "ACTIVE")

    await _eventually(started)
    late_confirm = await staff.post(f"{API}/payments/{body['payment_id']}/confirm")
    assert late_confirm.status_code == 409
    assert len(await events_of(staff, "PAYMENT_COMPLETED")) == 1


async def test_a_failed_payment_webhook_cancels_the_sale(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    stripe_sim.emulator.webhook_url = f"{card_server.base_url}{WEBHOOK_PATH}"
    body = (await _card_start(staff, await pc_station(staff))).json()
    with pytest.raises(stripe.CardError):
        await stripe_sim.pay(body["client_secret"], "pm_card_chargeDeclined")

    async def failed() -> bool:
        return (await _payment(card_server, body["payment_id"])).status == "FAILED"

    await _eventually(failed)
    session = (await staff.get(f"{API}/sessions/{body['session']['id']}")).json()
    assert session["status"] == "CANCELLED"
    payment = await _payment(card_server, body["payment_id"])
    assert payment.failure_reason == "Your card was declined."


async def test_unsigned_or_forged_webhooks_are_refused(
    card_server: LiveServer, stripe_sim: EmulatorServer
) -> None:
    client = card_server.client()
    payload = '{"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"}'
    missing = await client.post(WEBHOOK_PATH, content=payload)
    assert missing.status_code == 400 and "Invalid webhook" in missing.json()["detail"]
    forged = await client.post(
        WEBHOOK_PATH, content=payload, headers={"Stripe-Signature": "t=1,v1=deadbeef"}
    )
    assert forged.status_code == 400


async def test_gateway_down_is_503_and_nothing_is_charged_or_started(
    database_url: str, tmp_path: Path
) -> None:
    server = await _serve(database_url, tmp_path / "data", f"http://127.0.0.1:{free_port()}")
    try:
        staff = await server.admin_client()
        station_id = await pc_station(staff)
        down = await _card_start(staff, station_id)
        assert down.status_code == 503
        assert down.json()["detail"] == (
            "Payment gateway is unreachable; nothing was charged and nothing started"
        )
        assert (await staff.get(f"{API}/sessions")).json()["meta"]["total"] == 0
        assert await events_of(staff, "PAYMENT_CREATED") == []
        assert (
            await staff.post(
                f"{API}/sessions/start", json={"station_id": station_id, "duration_minutes": 5}
            )
        ).status_code == 201
    finally:
        await server.close()


async def test_gateway_errors_are_502(staff: httpx.AsyncClient, stripe_sim: EmulatorServer) -> None:
    stripe_sim.emulator.faults.fail_status, stripe_sim.emulator.faults.fail_count = 500, 5
    failed = await _card_start(staff, await pc_station(staff))
    assert failed.status_code == 502 and "nothing was charged" in failed.json()["detail"]
    assert (await staff.get(f"{API}/sessions")).json()["meta"]["total"] == 0


async def test_a_lost_answer_to_intent_creation_is_retried_without_a_second_intent(
    staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    """The first create is done but answered too late; the SDK retries with the same key."""
    stripe_sim.emulator.faults.delay_seconds, stripe_sim.emulator.faults.delay_count = 2.0, 1
    pending = await _card_start(staff, await pc_station(staff))
    assert pending.status_code == 202, pending.text
    assert len(stripe_sim.emulator.intents) == 1
    posts = [r for r in stripe_sim.emulator.requests if r == ("POST", "/v1/payment_intents")]
    assert len(posts) == 2


async def test_a_confirm_that_times_out_after_charging_is_reconciled(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    body = (await _card_start(staff, await pc_station(staff))).json()
    await stripe_sim.pay(body["client_secret"])  # the customer's money is taken
    stripe_sim.emulator.faults.delay_seconds, stripe_sim.emulator.faults.delay_count = 2.0, 2
    timed_out = await staff.post(f"{API}/payments/{body['payment_id']}/confirm")
    assert timed_out.status_code == 503
    assert timed_out.json()["detail"] == (
        "Payment gateway did not answer in time; "
        "the payment stays pending and is checked again automatically"
    )

    assert (await _payment(card_server, body["payment_id"])).status == "PENDING"

    await card_server.services.payments_sweeper.sweep()  # its next periodic pass
    assert (await _payment(card_server, body["payment_id"])).status == "COMPLETED"
    session = (await staff.get(f"{API}/sessions/{body['session']['id']}")).json()
    assert session["status"] == "ACTIVE"
    assert len(await events_of(staff, "PAYMENT_COMPLETED")) == 1


async def test_an_unpaid_card_sale_is_cancelled_after_the_wait(
    database_url: str, tmp_path: Path, stripe_sim: EmulatorServer
) -> None:
    server = await _serve(
        database_url,
        tmp_path / "data",
        stripe_sim.base_url,
        pending_payment_minutes=0.02,
        payments_sweep_seconds=0.3,
    )
    try:
        staff = await server.admin_client()
        station_id = await pc_station(staff)
        body = (await _card_start(staff, station_id)).json()

        async def cancelled() -> bool:
            return (await _payment(server, body["payment_id"])).status == "CANCELLED"

        await _eventually(cancelled)
        session = (await staff.get(f"{API}/sessions/{body['session']['id']}")).json()
        assert session["status"] == "CANCELLED" and session["end_reason"] == "unpaid"
        [intent] = stripe_sim.emulator.intents.values()
        assert intent["status"] == "canceled"  # can no longer be paid
        assert len(await events_of(staff, "SESSION_CANCELLED")) == 1
        assert (await _card_start(staff, station_id)).status_code == 202
    finally:
        await server.close()


async def test_staff_can_call_off_a_waiting_card_sale(
    card_server: LiveServer, staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    station_id = await pc_station(staff)
    body = (await _card_start(staff, station_id)).json()
    called_off = await staff.delete(f"{API}/sessions/{body['session']['id']}")
    assert called_off.status_code == 200, called_off.text
    assert called_off.json()["status"] == "CANCELLED"
    assert (await _payment(card_server, body["payment_id"])).status == "CANCELLED"
    [intent] = stripe_sim.emulator.intents.values()
    assert intent["status"] == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        await stripe_sim.pay(body["client_secret"])  # too late to pay now
    assert (await _card_start(staff, station_id)).status_code == 202

    paid = (await _card_start(staff, await pc_station(staff))).json()
    await stripe_sim.pay(paid["client_secret"])
    refused = await staff.delete(f"{API}/sessions/{paid['session']['id']}")
    assert refused.status_code == 409 and "already paid" in refused.json()["detail"]


async def test_card_topup_is_credited_once_paid(
    staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    customer = await create_customer(staff)
    url = f"{API}/users/{customer['id']}/topups"
    pending = await staff.post(url, json={"amount": 2000, "method": "CARD"})
    assert pending.status_code == 202, pending.text
    assert pending.json()["customer"]["balance"] == 0
    await stripe_sim.pay(pending.json()["client_secret"])
    paid = await staff.post(f"{API}/payments/{pending.json()['payment']['id']}/confirm")
    assert paid.status_code == 200, paid.text
    assert paid.json()["customer"]["balance"] == 2000 == await balance_of(staff, customer["id"])


async def test_card_extension_applies_once_paid(
    staff: httpx.AsyncClient, stripe_sim: EmulatorServer
) -> None:
    session = (
        await staff.post(
            f"{API}/sessions/start",
            json={"station_id": await pc_station(staff, rate=600), "duration_minutes": 30},
        )
    ).json()
    url = f"{API}/sessions/{session['id']}/extend"
    pending = await staff.put(url, json={"additional_minutes": 30, "payment_method": "CARD"})
    assert pending.status_code == 202, pending.text
    assert pending.json()["session"]["extended_minutes"] == 0
    await stripe_sim.pay(pending.json()["client_secret"])
    paid = await staff.post(f"{API}/payments/{pending.json()['payment_id']}/confirm")
    assert paid.status_code == 200, paid.text
    assert paid.json()["extended_minutes"] == 30 and paid.json()["amount_total"] == 600
