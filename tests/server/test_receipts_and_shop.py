"""Tax lines, receipts for every sale (numbered without gaps or repeats) and the snack POS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.server.db.engine import Database, create_engine
from gameops.server.receipts.repository import next_number
from gameops.server.tax.domain import gross_price, tax_in, tax_lines
from tests.support.live_server import LiveServer, server_settings
from tests.support.money import API, balance_of, create_customer, pc_station, top_up

FLOAT = {"count": {"5000": 2}}


def test_tax_inside_a_gross_price_and_on_top_of_a_net_one() -> None:
    assert tax_in(1200, 2000) == 200  # 20 % inside 12.00
    assert tax_in(-1200, 2000) == -200  # a refund carries its tax back
    assert tax_in(999, 700) == 65  # 9.99 at 7 %: 65.35 rounds to 65
    assert gross_price(1000, 2000, includes_tax=False) == 1200
    assert gross_price(1000, 2000, includes_tax=True) == 1000
    lines = tax_lines([(600, 2000), (250, 700), (250, 700), (1000, 0)])
    assert [(t.rate_bp, t.net, t.tax, t.gross) for t in lines] == [
        (2000, 500, 100, 600),
        (700, 467, 33, 500),
        (0, 1000, 0, 1000),
    ]


@pytest.fixture
async def venue(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = server_settings(
        database_url,
        tmp_path / "data",
        require_open_shift=True,
        stop_refund="balance",
        tax_rate_bp=2000,
        venue_name="Pixel Hall",
        venue_address="1 Arcade Lane",
        venue_tax_id="DE123456789",
        cash_denominations=[5000, 1000, 100],
    )
    server = LiveServer(settings)
    await server.start()
    yield server
    await server.close()


async def _receipts(staff: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await staff.get(f"{API}/receipts", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _start(staff: httpx.AsyncClient, method: str, user: str | None = None) -> dict[str, Any]:
    body = {
        "station_id": await pc_station(staff, rate=600),
        "duration_minutes": 60,
        "payment_method": method,
        "user_id": user,
    }
    response = await staff.post(f"{API}/sessions/start", json=body)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


async def test_every_sale_top_up_and_refund_gets_a_receipt(venue: LiveServer) -> None:
    staff = await venue.admin_client()
    assert (await staff.post(f"{API}/shifts", json=FLOAT)).status_code == 201
    since = datetime.now(UTC) - timedelta(seconds=1)
    cash = await _start(staff, "CASH")
    ann = (await create_customer(staff, full_name="Ann Lee"))["id"]
    assert (await top_up(staff, ann, 2000)).status_code == 201
    played = await _start(staff, "BALANCE", ann)
    extended = await staff.put(
        f"{API}/sessions/{played['id']}/extend",
        json={"additional_minutes": 30, "payment_method": "BALANCE"},
    )
    assert extended.status_code == 200, extended.text
    stopped = (await staff.delete(f"{API}/sessions/{played['id']}")).json()
    assert stopped["refund_way"] == "balance" and stopped["refunded"] > 0

    receipts = list(reversed(await _receipts(staff)))
    assert [r["number"] for r in receipts] == [1, 2, 3, 4, 5]
    assert [r["kind"] for r in receipts] == ["SALE", "TOPUP", "SALE", "EXTENSION", "REFUND"]
    sale, topup, balance_sale, _, refund = receipts
    assert sale["payment_id"] == cash["payment"]["id"] and sale["method"] == "CASH"
    assert sale["total"] == 600
    assert sale["taxes"] == [{"rate_bp": 2000, "net": 500, "tax": 100, "gross": 600}]
    assert sale["lines"][0]["description"].startswith("Play time, 60 min on PC-")
    assert topup["taxes"] == [] and topup["total"] == 2000
    assert balance_sale["customer"] == "Ann Lee" and balance_sale["method"] == "BALANCE"
    assert refund["total"] == -stopped["refunded"]
    assert refund["taxes"][0]["tax"] == tax_in(-stopped["refunded"], 2000)

    thermal = await staff.get(f"{API}/receipts/{sale['id']}/print")
    assert thermal.status_code == 200 and "print-receipt-80mm.css" in thermal.text
    for text in (
        "Pixel Hall",
        "1 Arcade Lane",
        "VAT ID DE123456789",
        "No. 000001",
        "$6.00",
        "$1.00",
    ):
        assert text in thermal.text
    a4 = await staff.get(f"{API}/receipts/{topup['id']}/print", params={"paper": "a4"})
    assert "print-receipt-a4.css" in a4.text and "Prepaid balance" in a4.text
    sheet = await staff.get("/static/css/print-receipt-80mm.css")
    assert "size: 80mm auto" in sheet.text  # a file: the pages' CSP allows no inline style

    report = (
        await staff.get(
            f"{API}/reports/money",
            params={
                "from": since.isoformat(),
                "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            },
        )
    ).json()
    [vat] = report["taxes"]
    assert vat["rate_bp"] == 2000
    assert vat["gross"] == report["revenue"]  # taxed: what was sold, less what went back
    assert vat["tax"] == sum(r["taxes"][0]["tax"] for r in receipts if r["taxes"])


async def test_snacks_sold_for_cash_and_on_a_balance(venue: LiveServer) -> None:
    staff = await venue.admin_client()
    assert (await staff.post(f"{API}/shifts", json=FLOAT)).status_code == 201
    cola = await staff.post(
        f"{API}/shop/products",
        json={"name": "Cola", "category": "drinks", "price": 250, "tax_rate_bp": 700, "stock": 5},
    )
    assert cola.status_code == 201, cola.text
    chips = await staff.post(
        f"{API}/shop/products", json={"name": "Chips", "price": 180, "stock": 2}
    )
    assert chips.json()["tax_rate_bp"] == 2000  # the venue's rate unless given
    cola_id, chips_id = cola.json()["id"], chips.json()["id"]

    walk_in = await staff.post(
        f"{API}/shop/sales",
        json={
            "items": [
                {"product_id": cola_id, "quantity": 2},
                {"product_id": chips_id, "quantity": 1},
            ],
            "payment_method": "CASH",
        },
    )
    assert walk_in.status_code == 201, walk_in.text
    assert walk_in.json()["total"] == 680
    [receipt] = await _receipts(staff, payment_id=walk_in.json()["payment"]["id"])
    assert receipt["kind"] == "SHOP"
    assert [
        (line["description"], line["quantity"], line["amount"]) for line in receipt["lines"]
    ] == [
        ("Cola", 2, 500),
        ("Chips", 1, 180),
    ] or [(line["description"], line["quantity"], line["amount"]) for line in receipt["lines"]] == [
        ("Chips", 1, 180),
        ("Cola", 2, 500),
    ]
    assert receipt["taxes"] == [
        {"rate_bp": 2000, "net": 150, "tax": 30, "gross": 180},
        {"rate_bp": 700, "net": 467, "tax": 33, "gross": 500},
    ]

    ann = (await create_customer(staff))["id"]
    assert (await top_up(staff, ann, 1000)).status_code == 201
    on_balance = await staff.post(
        f"{API}/shop/sales",
        json={
            "items": [{"product_id": cola_id, "quantity": 3}],
            "payment_method": "BALANCE",
            "user_id": ann,
        },
    )
    assert on_balance.status_code == 201, on_balance.text
    assert await balance_of(staff, ann) == 1000 - 750
    sold_out = await staff.post(
        f"{API}/shop/sales",
        json={"items": [{"product_id": cola_id, "quantity": 1}], "payment_method": "CASH"},
    )
    assert sold_out.status_code == 409 and sold_out.json()["detail"] == "Only 0 Cola left"
    short = await staff.post(
        f"{API}/shop/sales",
        json={
            "items": [{"product_id": chips_id, "quantity": 1}],
            "payment_method": "BALANCE",
            "user_id": ann,
        },
    )
    assert short.status_code == 201  # 250 left covers 180
    products = {p["name"]: p for p in (await staff.get(f"{API}/shop/products")).json()}
    assert (products["Cola"]["stock"], products["Chips"]["stock"]) == (0, 0)

    report = (await staff.get(f"{API}/shifts/current")).json()
    handover = (await staff.get(f"{API}/shifts/{report['id']}/report")).json()
    assert handover["shop_sales"] == {"CASH": 680, "BALANCE": 930}
    assert handover["cash_in"] == 680 + 1000


async def test_net_prices_add_the_tax_on_top(database_url: str, tmp_path: Path) -> None:
    settings = server_settings(
        database_url, tmp_path / "data", tax_rate_bp=2000, prices_include_tax=False
    )
    server = LiveServer(settings)
    await server.start()
    try:
        staff = await server.admin_client()
        sale = await _start(staff, "CASH")
        assert sale["payment"]["amount"] == 720  # 6.00 net + 20 %
        assert sale["pricing"]["tax_added"] == 120
        [receipt] = await _receipts(staff)
        assert receipt["taxes"] == [{"rate_bp": 2000, "net": 600, "tax": 120, "gross": 720}]
    finally:
        await server.close()


async def test_receipt_numbers_never_repeat_or_skip_under_concurrency(
    venue: LiveServer,
) -> None:
    staff = await venue.admin_client()
    assert (await staff.post(f"{API}/shifts", json=FLOAT)).status_code == 201
    customers = [(await create_customer(staff))["id"] for _ in range(5)]

    async def buy(i: int) -> int:
        return (await top_up(staff, customers[i % 5], 100 + i)).status_code

    statuses = await asyncio.gather(*(buy(i) for i in range(40)))
    assert statuses == [201] * 40
    numbers = sorted(r["number"] for r in await _receipts(staff))
    assert numbers == list(range(1, 41))


async def test_a_rolled_back_number_is_issued_again(database_url: str) -> None:
    database = Database(create_engine(database_url))
    try:
        async with database.transaction() as db:
            first = await next_number(db)
        with pytest.raises(RuntimeError):
            async with database.transaction() as db:
                assert await next_number(db) == first + 1
                raise RuntimeError("the sale failed")
        async with database.transaction() as db:
            assert await next_number(db) == first + 1
    finally:
        await database.dispose()


async def test_a_retried_snack_sale_sells_once(venue: LiveServer) -> None:
    staff = await venue.admin_client()
    assert (await staff.post(f"{API}/shifts", json=FLOAT)).status_code == 201
    cola = await staff.post(f"{API}/shop/products", json={"name": "Cola", "price": 250, "stock": 5})
    body = {"items": [{"product_id": cola.json()["id"], "quantity": 2}], "payment_method": "CASH"}
    headers = {"Idempotency-Key": "sale-7f3a"}
    first = await staff.post(f"{API}/shop/sales", json=body, headers=headers)
    again = await staff.post(f"{API}/shop/sales", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["payment"]["id"] == first.json()["payment"]["id"]
    [product] = (await staff.get(f"{API}/shop/products")).json()
    assert product["stock"] == 3
    assert len(await _receipts(staff)) == 1


async def test_a_receipt_is_printed_in_the_venues_language(
    database_url: str, tmp_path: Path
) -> None:
    settings = server_settings(
        database_url,
        tmp_path / "data",
        venue_language="de",
        currency="EUR",
        tax_rate_bp=1900,
        venue_name="Pixelhalle",
    )
    server = LiveServer(settings)
    await server.start()
    try:
        staff = await server.admin_client()
        await _start(staff, "CASH")
        [receipt] = await _receipts(staff)
        assert receipt["lines"][0]["description"].startswith("Spielzeit, 60 Min. an PC-")
        page = (await staff.get(f"{API}/receipts/{receipt['id']}/print")).text
        for text in (
            'lang="de"',
            "Beleg",
            "Nr. 000001",
            "Summe",
            "6,00\xa0€",
            "MwSt" if False else "VAT-Satz",
            "Vielen Dank!",
        ):
            assert text in page, text
    finally:
        await server.close()
