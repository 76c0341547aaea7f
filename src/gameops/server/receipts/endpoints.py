"""Receipts: listed, as JSON, and as a printable page for 80 mm thermal paper or A4."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import Receipt
from gameops.server.deps import DbDep, PageDep, SettingsDep, StaffUser
from gameops.server.errors import NotFound
from gameops.server.printing import render
from gameops.server.receipts import repository
from gameops.server.receipts.schemas import ReceiptPublic
from gameops.server.schemas import PageMeta, Paginated

router = APIRouter(prefix="/receipts", tags=["receipts"])
Paper = Annotated[Literal["80mm", "a4"], Query(description="80 mm thermal roll or A4")]


@router.get("", response_model=Paginated[ReceiptPublic])
async def list_receipts(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    payment_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> Paginated[ReceiptPublic]:
    """Newest first; filter by the payment, session or customer."""
    rows, total = await repository.list_receipts(
        db,
        page.offset,
        page.per_page,
        payment_id=payment_id,
        session_id=session_id,
        user_id=user_id,
    )
    return Paginated(
        items=[ReceiptPublic.model_validate(r) for r in rows],
        meta=PageMeta.of(page.page, page.per_page, total),
    )


@router.get("/{receipt_id}")
async def get_receipt(receipt_id: uuid.UUID, db: DbDep, _: StaffUser) -> ReceiptPublic:
    return ReceiptPublic.model_validate(await _receipt(db, receipt_id))


@router.get("/{receipt_id}/print", response_class=HTMLResponse)
async def print_receipt(
    receipt_id: uuid.UUID, settings: SettingsDep, db: DbDep, _: StaffUser, paper: Paper = "80mm"
) -> HTMLResponse:
    receipt = ReceiptPublic.model_validate(await _receipt(db, receipt_id))
    context = {
        "receipt": receipt,
        "paper": paper,
        "currency": receipt.currency,
        "timezone": settings.venue_timezone,
        "language": settings.venue_language,
        "venue": {
            "name": settings.venue_name,
            "address": settings.venue_address,
            "tax_id": settings.venue_tax_id,
            "tax_name": settings.tax_name,
        },
    }
    return render("receipt.html", context)


async def _receipt(db: AsyncSession, receipt_id: uuid.UUID) -> Receipt:
    receipt = await repository.get(db, receipt_id)
    if receipt is None:
        raise NotFound("Receipt not found")
    return receipt
