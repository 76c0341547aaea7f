from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from gameops.server.deps import ContextDep, DbDep, PageDep, StaffUser
from gameops.server.schemas import Paginated
from gameops.server.sessions import repository, service
from gameops.server.sessions.domain import SessionStatus
from gameops.server.sessions.schemas import (
    SessionCharged,
    SessionExtendRequest,
    SessionPublic,
    SessionStartRequest,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("/start", status_code=status.HTTP_201_CREATED)
async def start_session(
    body: SessionStartRequest, context: ContextDep, db: DbDep, staff: StaffUser
) -> SessionCharged:
    return await service.start_session(context, db, body, staff)


@router.put("/{session_id}/extend")
async def extend_session(
    session_id: uuid.UUID,
    body: SessionExtendRequest,
    context: ContextDep,
    db: DbDep,
    staff: StaffUser,
) -> SessionCharged:
    return await service.extend_session(context, db, session_id, body.additional_minutes, staff)


@router.delete("/{session_id}")
async def stop_session(
    session_id: uuid.UUID, context: ContextDep, db: DbDep, staff: StaffUser
) -> SessionPublic:
    return await service.stop_session(context, db, session_id, staff)


@router.get("", response_model=Paginated[SessionPublic])
async def list_sessions(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    status: SessionStatus | None = None,
    station_id: uuid.UUID | None = None,
) -> Paginated[SessionPublic]:
    rows, total = await repository.list_sessions(db, page.offset, page.per_page, status, station_id)
    return page.of(SessionPublic, rows, total)


@router.get("/{session_id}")
async def get_session(session_id: uuid.UUID, db: DbDep, _: StaffUser) -> SessionPublic:
    return SessionPublic.model_validate(await service.get_session(db, session_id))
