"""Rate plans (admins manage them; every change is a PRICING_CHANGED event) and quotes.

A quote is what a sale charges: sessions call :func:`quote_for` with the same inputs the
quote endpoint uses, so the price shown is the price taken.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import RatePlan, Station, User
from gameops.server.errors import Conflict, NotFound
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.pricing import domain, repository
from gameops.server.pricing.schemas import PackageIn, QuotePublic, RatePlanIn, SegmentPublic
from gameops.server.tax.domain import gross_price


async def quote_for(
    db: AsyncSession,
    station: Station,
    customer: User | None,
    minutes: int,
    starts_at: datetime,
    venue_timezone: str,
    tax: tuple[int, bool] = (0, True),
) -> domain.Quote:
    """The price of ``minutes`` on ``station`` from ``starts_at``: its zone's plan, or
    the station's own hourly rate when its zone has none. ``tax`` is the rate for play
    time (basis points) and whether prices include it; if not, it is added on top."""
    plan = await plan_for(db, station)
    member = bool(customer and customer.is_member)
    quote = domain.quote(plan, starts_at, minutes, member, ZoneInfo(venue_timezone))
    rate_bp, includes_tax = tax
    gross = gross_price(quote.amount, rate_bp, includes_tax=includes_tax)
    return replace(quote, tax_added=gross - quote.amount)


async def plan_for(db: AsyncSession, station: Station) -> domain.PricePlan:
    """The station's zone's plan, or the station's own hourly rate when its zone has none."""
    row = await repository.by_zone(db, station.zone) if station.zone else None
    return plan_from_row(row) if row else _station_rate(station)


async def plans_for(
    db: AsyncSession, stations: Sequence[Station]
) -> dict[uuid.UUID, domain.PricePlan]:
    """``plan_for`` of many stations, with one query (each zone's plan read once)."""
    rows = await repository.by_zones(db, {s.zone for s in stations if s.zone})
    plans = {zone: plan_from_row(row) for zone, row in rows.items()}
    return {s.id: plans.get(s.zone or "") or _station_rate(s) for s in stations}


async def all_plans(db: AsyncSession) -> list[domain.PricePlan]:
    return [plan_from_row(row) for row in await repository.all_plans(db)]


def _station_rate(station: Station) -> domain.PricePlan:
    rate = station.hourly_rate
    return domain.PricePlan("station rate", domain.Rates(member=rate, guest=rate))


def plan_from_row(row: RatePlan) -> domain.PricePlan:
    return domain.PricePlan(
        name=row.name,
        rates=domain.Rates(row.member_hourly_rate, row.guest_hourly_rate),
        rules=tuple(_rule(r) for r in row.rules),
        packages=tuple(domain.Package(**p) for p in row.packages),
    )


def _rule(stored: dict[str, Any]) -> domain.TimeRule:
    return domain.TimeRule(
        name=stored["name"],
        start=time.fromisoformat(stored["start"]),
        end=time.fromisoformat(stored["end"]),
        rates=domain.Rates(stored["member_hourly_rate"], stored["guest_hourly_rate"]),
        days=frozenset(stored["days"]),
    )


def quote_public(quote: domain.Quote, currency: str) -> QuotePublic:
    return QuotePublic(
        amount=quote.amount,
        currency=currency,
        minutes=quote.minutes,
        plan=quote.plan,
        member=quote.member,
        starts_at=quote.starts_at,
        ends_at=quote.ends_at,
        basis="package" if quote.package else "time",
        time_price=quote.time_price,
        package=PackageIn.model_validate(quote.package, from_attributes=True)
        if quote.package
        else None,
        segments=[
            SegmentPublic(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                minutes=round(s.minutes, 3),
                hourly_rate=s.hourly_rate,
                rule=s.rule,
                amount=s.amount,
            )
            for s in quote.segments
        ],
        notes=list(quote.notes),
        tax_added=quote.tax_added,
    )


async def get_plan(db: AsyncSession, plan_id: uuid.UUID) -> RatePlan:
    plan = await repository.get(db, plan_id)
    if plan is None:
        raise NotFound("Rate plan not found")
    return plan


async def create_plan(db: AsyncSession, data: RatePlanIn, actor_id: uuid.UUID) -> RatePlan:
    plan = RatePlan(id=uuid.uuid4(), **data.model_dump(mode="json"))
    db.add(plan)
    await _flush_unique_zone(db, data.zone)
    _changed(db, plan, "created", actor_id)
    return plan


async def replace_plan(
    db: AsyncSession, plan: RatePlan, data: RatePlanIn, actor_id: uuid.UUID
) -> RatePlan:
    for name, value in data.model_dump(mode="json").items():
        setattr(plan, name, value)
    await _flush_unique_zone(db, data.zone)
    _changed(db, plan, "replaced", actor_id)
    return plan


async def delete_plan(db: AsyncSession, plan: RatePlan, actor_id: uuid.UUID) -> None:
    _changed(db, plan, "deleted", actor_id)
    await db.delete(plan)


async def _flush_unique_zone(db: AsyncSession, zone: str) -> None:
    try:
        await db.flush()
    except IntegrityError as err:
        raise Conflict(f"Zone {zone!r} already has a rate plan") from err


def _changed(db: AsyncSession, plan: RatePlan, action: str, actor_id: uuid.UUID) -> None:
    snapshot = RatePlanIn.model_validate(plan, from_attributes=True).model_dump(mode="json")
    record_event(
        db,
        EventType.PRICING_CHANGED,
        actor_id=actor_id,
        data={"plan_id": str(plan.id), "action": action, "plan": snapshot},
    )
