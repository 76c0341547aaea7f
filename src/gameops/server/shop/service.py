"""Snacks and drinks at the desk: products with stock, sold to a walk-in for cash or on a
customer's balance. A sale is one payment (purpose SHOP_SALE): it joins the open shift,
counts as revenue and gets its receipt like any other payment."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.accounts import service as accounts
from gameops.server.db.models import Product, ShopSaleLine, User
from gameops.server.errors import Conflict, NotFound, Unprocessable
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.payments import service as payments
from gameops.server.payments.domain import PaymentMethod, PaymentPurpose, PaymentStatus, Refusal
from gameops.server.payments.schemas import PaymentPublic
from gameops.server.settings import Settings
from gameops.server.shop import repository
from gameops.server.shop.domain import Item, item
from gameops.server.shop.schemas import (
    ProductCreate,
    ProductUpdate,
    SaleLinePublic,
    ShopSaleCreate,
    ShopSalePublic,
)


async def create_product(
    settings: Settings, db: AsyncSession, body: ProductCreate, actor: User
) -> Product:
    rate = settings.tax_rate_bp if body.tax_rate_bp is None else body.tax_rate_bp
    product = Product(
        id=uuid.uuid4(),
        name=body.name,
        category=body.category,
        price=body.price,
        tax_rate_bp=rate,
        stock=body.stock,
        active=True,
    )
    db.add(product)
    await _flush_unique(db)
    _noted(db, product, actor, "created")
    return product


async def update_product(
    db: AsyncSession, product_id: uuid.UUID, body: ProductUpdate, actor: User
) -> Product:
    product = await get_product(db, product_id, lock=True)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(product, name, value)
    await _flush_unique(db)
    _noted(db, product, actor, "updated")
    return product


async def get_product(db: AsyncSession, product_id: uuid.UUID, *, lock: bool = False) -> Product:
    product = await repository.get(db, product_id, lock=lock)
    if product is None:
        raise NotFound("Product not found")
    return product


async def sell(
    settings: Settings, db: AsyncSession, body: ShopSaleCreate, actor: User
) -> ShopSalePublic | Refusal:
    """Check everything first (stock, balance); then take the stock and the money."""
    method = PaymentMethod(body.payment_method)
    customer = await accounts.get_customer(db, body.user_id) if body.user_id else None
    if method is PaymentMethod.BALANCE and customer is None:
        raise Unprocessable("Putting snacks on a balance needs a customer: give user_id")
    products, items = await _items(settings, db, body)
    charge = payments.Charge(
        amount=sum(i.amount for i in items),
        currency=settings.currency,
        minutes=0,
        purpose=PaymentPurpose.SHOP_SALE,
        actor_id=actor.id,
        user_id=customer.id if customer else None,
    )
    if method is PaymentMethod.BALANCE and customer is not None:
        refusal = await payments.refuse_if_short(db, customer, charge)
        if refusal is not None:
            return refusal
        payment = await payments.pay_from_balance(db, customer, charge)
    else:
        payment = payments.record_payment(db, charge, method, PaymentStatus.COMPLETED)
    for product, sold in zip(products, items, strict=True):
        product.stock -= sold.quantity
    await db.flush()
    lines = [_line(payment.id, p, i) for p, i in zip(products, items, strict=True)]
    db.add_all(lines)
    await db.flush()
    return ShopSalePublic(
        payment=PaymentPublic.model_validate(payment),
        lines=[SaleLinePublic.model_validate(line, from_attributes=True) for line in lines],
        total=charge.amount,
    )


async def _items(
    settings: Settings, db: AsyncSession, body: ShopSaleCreate
) -> tuple[list[Product], list[Item]]:
    """The products, locked in id order (no deadlock between two sales), with stock."""
    wanted: dict[uuid.UUID, int] = {}
    for line in body.items:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    products, items = [], []
    for product_id in sorted(wanted):
        product = await get_product(db, product_id, lock=True)
        quantity = wanted[product_id]
        if not product.active:
            raise Conflict(f"{product.name} is no longer sold")
        if product.stock < quantity:
            raise Conflict(f"Only {product.stock} {product.name} left", stock=product.stock)
        includes_tax = settings.prices_include_tax
        products.append(product)
        items.append(
            item(
                product.name,
                quantity,
                product.price,
                product.tax_rate_bp,
                includes_tax=includes_tax,
            )
        )
    return products, items


def _line(payment_id: uuid.UUID, product: Product, sold: Item) -> ShopSaleLine:
    return ShopSaleLine(
        payment_id=payment_id,
        product_id=product.id,
        name=sold.name,
        quantity=sold.quantity,
        unit_price=sold.unit_price,
        amount=sold.amount,
        tax_rate_bp=sold.tax_rate_bp,
    )


async def _flush_unique(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as err:
        raise Conflict("A product with this name exists") from err


def _noted(db: AsyncSession, product: Product, actor: User, what: str) -> None:
    record_event(
        db,
        EventType.PRODUCT_CHANGED,
        actor_id=actor.id,
        data={
            "product_id": str(product.id),
            "name": product.name,
            "change": what,
            "price": product.price,
            "stock": product.stock,
        },
    )
