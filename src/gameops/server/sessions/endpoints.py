from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gameops.server.deps import DbDep, PageDep, SettingsDep, StaffUser
from gameops.server.payments import settlement
from gameops.server.payments.domain import Refusal
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.payments.runtime import GatewayDep
from gameops.server.schemas import PageMeta, Paginated
from gameops.server.sessions import repository, service
from gameops.server.sessions.domain import SessionStatus
from gameops.server.sessions.schemas import (
    SessionCardPending,
    SessionCharged,
    SessionExtendRequest,
    SessionPublic,
    SessionStartRequest,
    SessionStopped,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])
REFUSAL: dict[int | str, dict[str, Any]] = {
    202: {"model": SessionCardPending, "description": "CARD: pay, then confirm the payment"},
    400: {"description": "Insufficient balance (payment recorded FAILED)"},
    502: {"description": "The payment gateway failed; nothing was charged"},
    503: {"description": "The payment gateway is unreachable; nothing was charged"},
}


def _answer(sale: service.Sale, success_status: int) -> Answer:
    if isinstance(sale, Refusal):
        return sale.status_code, sale.body()
    if isinstance(sale, SessionCardPending):
        return 202, sale.model_dump(mode="json")
    return success_status, sale.model_dump(mode="json")


@router.post(
    "/start",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCharged,
    responses=REFUSAL,
)
async def start_session(
    body: SessionStartRequest,
    settings: SettingsDep,
    db: DbDep,
    staff: StaffUser,
    gateway: GatewayDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def sell() -> Answer:
        return _answer(await service.start_session(settings, db, body, staff, gateway), 201)

    print_ = fingerprint("sessions.start", staff.id, body.model_dump(mode="json"))
    return await answer_once(db, idempotency_key, print_, staff.id, sell)


@router.put("/{session_id}/extend", response_model=SessionCharged, responses=REFUSAL)
async def extend_session(
    session_id: uuid.UUID,
    body: SessionExtendRequest,
    settings: SettingsDep,
    db: DbDep,
    staff: StaffUser,
    gateway: GatewayDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def sell() -> Answer:
        sale = await service.extend_session(settings, db, session_id, body, staff, gateway)
        return _answer(sale, 200)

    request = {"session_id": str(session_id), **body.model_dump(mode="json")}
    print_ = fingerprint("sessions.extend", staff.id, request)
    return await answer_once(db, idempotency_key, print_, staff.id, sell)


@router.delete("/{session_id}")
async def stop_session(
    session_id: uuid.UUID, settings: SettingsDep, db: DbDep, staff: StaffUser, gateway: GatewayDep
) -> SessionStopped:
    """Stop a running session, or call off a card sale still waiting for the card."""
    session = await service.get_session(db, session_id, lock=True)
    if session.status is SessionStatus.PENDING_PAYMENT:
        return await settlement.cancel_card_sale(db, gateway, session, staff.id)
    return await service.stop_session(settings, db, session_id, staff)


@router.get("", response_model=Paginated[SessionPublic])
async def list_sessions(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    status: SessionStatus | None = None,
    station_id: uuid.UUID | None = None,
) -> Paginated[SessionPublic]:
    rows, total = await repository.list_sessions(db, page.offset, page.per_page, status, station_id)
    return Paginated(
        items=[SessionPublic.model_validate(s) for s in rows],
        meta=PageMeta.of(page.page, page.per_page, total),
    )


@router.get("/{session_id}")
async def get_session(session_id: uuid.UUID, db: DbDep, _: StaffUser) -> SessionPublic:
    return SessionPublic.model_validate(await service.get_session(db, session_id))
