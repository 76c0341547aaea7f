from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gameops.server.deps import DbDep, PageDep, SettingsDep, StaffUser
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.payments.runtime import GatewayDep
from gameops.server.schemas import PageMeta, Paginated
from gameops.server.sessions import card_sales, repository, service
from gameops.server.sessions.domain import SessionStatus
from gameops.server.sessions.schemas import (
    SessionCardPending,
    SessionCharged,
    SessionExtendRequest,
    SessionPublic,
    SessionRow,
    SessionStartRequest,
    SessionStopped,
    StopPreview,
)
from gameops.server.sessions.selling import Selling

router = APIRouter(prefix="/sessions", tags=["sessions"])


def _selling(request: Request) -> Selling:
    selling: Selling = request.app.state.selling
    return selling


SellingDep = Annotated[Selling, Depends(_selling)]
REFUSAL: dict[int | str, dict[str, Any]] = {
    202: {"model": SessionCardPending, "description": "CARD: pay, then confirm the payment"},
    400: {"description": "Insufficient balance (payment recorded FAILED)"},
    502: {"description": "The payment gateway failed; nothing was charged"},
    503: {"description": "The payment gateway is unreachable; nothing was charged"},
}


@router.post(
    "/start",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCharged,
    responses=REFUSAL,
)
async def start_session(
    body: SessionStartRequest,
    selling: SellingDep,
    staff: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await selling.start(body, staff, idempotency_key)


@router.put("/{session_id}/extend", response_model=SessionCharged, responses=REFUSAL)
async def extend_session(
    session_id: uuid.UUID,
    body: SessionExtendRequest,
    selling: SellingDep,
    staff: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await selling.extend(session_id, body, staff, idempotency_key)


@router.delete("/{session_id}")
async def stop_session(
    session_id: uuid.UUID, settings: SettingsDep, db: DbDep, staff: StaffUser, gateway: GatewayDep
) -> SessionStopped:
    """Stop a running session, or call off a card sale still waiting for the card."""
    session = await service.get_session(db, session_id, lock=True)
    if session.status is SessionStatus.PENDING_PAYMENT:
        return await card_sales.cancel_card_sale(db, gateway, session, staff.id)
    return await service.stop_session(settings, db, session_id, staff)


class MoveRequest(BaseModel):
    station_id: uuid.UUID
    override_reservation_id: uuid.UUID | None = Field(
        default=None, description="as for a sale: release the booking holding the new PC"
    )
    keep_deposit: bool = False


@router.post("/{session_id}/move")
async def move_session(
    session_id: uuid.UUID, body: MoveRequest, db: DbDep, staff: StaffUser, selling: SellingDep
) -> SessionPublic:
    """Move a sale its PC has not taken (offline, broken) to another PC, at the price paid.
    A PC a booking holds: 409 naming it, as for a sale, unless ``override_reservation_id``."""
    override = service.override_of(body.override_reservation_id, body.keep_deposit)
    moved = await service.move_session(
        db, session_id, body.station_id, staff, selling.bookings, override
    )
    return SessionPublic.model_validate(moved)


@router.post("/{session_id}/void", response_model=SessionStopped)
async def void_session(
    session_id: uuid.UUID,
    settings: SettingsDep,
    db: DbDep,
    staff: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Give back, whole, a sale its PC has not taken: each payment the way it came."""

    async def run() -> Answer:
        voided = await service.void_session(settings, db, session_id, staff)
        return 200, voided.model_dump(mode="json")

    print_ = fingerprint("sessions.void", staff.id, {"session_id": str(session_id)})
    return await answer_once(db, idempotency_key, print_, staff.id, run)


@router.get("/{session_id}/stop-preview")
async def stop_preview(
    session_id: uuid.UUID, settings: SettingsDep, db: DbDep, _: StaffUser
) -> StopPreview:
    """What stopping now gives back, how and why: shown before staff confirm the stop."""
    return await service.preview_stop(settings, db, session_id)


@router.get("", response_model=Paginated[SessionRow])
async def list_sessions(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    status: SessionStatus | None = None,
    station_id: uuid.UUID | None = None,
) -> Paginated[SessionRow]:
    rows, total = await repository.list_sessions(db, page.offset, page.per_page, status, station_id)
    methods = await repository.payment_methods(db, [s.id for s in rows])
    return Paginated(
        items=[SessionRow.of(s, methods.get(s.id, [])) for s in rows],
        meta=PageMeta.of(page.page, page.per_page, total),
    )


@router.get("/{session_id}")
async def get_session(session_id: uuid.UUID, db: DbDep, _: StaffUser) -> SessionPublic:
    return SessionPublic.model_validate(await service.get_session(db, session_id))
