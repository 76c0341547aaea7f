from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from gameops.server.deps import AdminUser, DbDep, StaffUser
from gameops.server.pricing import repository, service
from gameops.server.pricing.schemas import RatePlanIn, RatePlanPublic

router = APIRouter(prefix="/pricing", tags=["pricing"])


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
