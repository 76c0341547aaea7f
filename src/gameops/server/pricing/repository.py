from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import RatePlan


async def by_zone(db: AsyncSession, zone: str) -> RatePlan | None:
    plan: RatePlan | None = await db.scalar(select(RatePlan).where(RatePlan.zone == zone))
    return plan


async def by_zones(db: AsyncSession, zones: Collection[str]) -> dict[str, RatePlan]:
    """The plans of ``zones`` that have one, by zone."""
    if not zones:
        return {}
    plans = await db.scalars(select(RatePlan).where(RatePlan.zone.in_(zones)))
    return {plan.zone: plan for plan in plans}


async def get(db: AsyncSession, plan_id: uuid.UUID) -> RatePlan | None:
    plan: RatePlan | None = await db.get(RatePlan, plan_id)
    return plan


async def all_plans(db: AsyncSession) -> Sequence[RatePlan]:
    return (await db.scalars(select(RatePlan).order_by(RatePlan.zone))).all()
