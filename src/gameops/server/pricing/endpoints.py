from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from gameops.protocol import utc_now
from gameops.server.accounts import service as accounts
from gameops.server.deps import AdminUser, DbDep, SettingsDep, StaffUser
from gameops.server.errors import BadRequest
from gameops.server.pricing import repository, service
from gameops.server.pricing.schemas import QuotePublic, RatePlanIn, RatePlanPublic
from gameops.server.sessions import service as sessions
from gameops.server.sessions.domain import SessionStatus, check_duration
from gameops.server.stations import service as stations

router = APIRouter(prefix="/pricing", tags=["pricing"])


@router.get("/quote")
async def get_quote(
    settings: SettingsDep,
    db: DbDep,
    _: StaffUser,
    station_id: uuid.UUID,
    minutes: Annotated[int, Query(description="minutes to sell")],
    user_id: uuid.UUID | None = None,
    session_id: Annotated[
        uuid.UUID | None, Query(description="price an extension of this session")
    ] = None,
) -> QuotePublic:
    """What starting (or, with ``session_id``, extending) would charge now, and why."""
    check_duration(minutes, settings.max_session_minutes, "minutes")
    station = await stations.get_station(db, station_id)
    customer = await accounts.get_customer(db, user_id) if user_id else None
    starts_at = utc_now()
    if session_id is not None:
        session = await sessions.get_session(db, session_id)
        if session.status is not SessionStatus.ACTIVE or session.station_id != station.id:
            raise BadRequest("Only an active session on this station can be extended")
        starts_at = session.scheduled_end_at
        customer = await sessions.customer_of(db, session)
    quote = await service.quote_for(
        db, station, customer, minutes, starts_at, settings.venue_timezone
    )
    return service.quote_public(quote, settings.currency)


@router.get("/plans")
async def list_plans(db: DbDep, _: StaffUser) -> list[RatePlanPublic]:
    return [RatePlanPublic.model_validate(p) for p in await repository.all_plans(db)]


@router.post("/plans", status_code=status.HTTP_201_CREATED)
async def create_plan(body: RatePlanIn, db: DbDep, admin: AdminUser) -> RatePlanPublic:
    return RatePlanPublic.model_validate(await service.create_plan(db, body, admin.id))


@router.get("/plans/{plan_id}")
async def get_plan(plan_id: uuid.UUID, db: DbDep, _: StaffUser) -> RatePlanPublic:
    return RatePlanPublic.model_validate(await service.get_plan(db, plan_id))


@router.put("/plans/{plan_id}")
async def replace_plan(
    plan_id: uuid.UUID, body: RatePlanIn, db: DbDep, admin: AdminUser
) -> RatePlanPublic:
    plan = await service.get_plan(db, plan_id)
    return RatePlanPublic.model_validate(await service.replace_plan(db, plan, body, admin.id))


@router.delete("/plans/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_plan(plan_id: uuid.UUID, db: DbDep, admin: AdminUser) -> Response:
    await service.delete_plan(db, await service.get_plan(db, plan_id), admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
