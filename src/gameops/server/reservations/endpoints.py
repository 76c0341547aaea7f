"""Reservations: members book from ``/me``, staff at the desk (the timeline page)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.db.models import Reservation
from gameops.server.deps import CurrentUser, DbDep, SettingsDep, StaffUser
from gameops.server.errors import Forbidden
from gameops.server.payments.idempotency import Answer, IdempotencyKey, answer_once, fingerprint
from gameops.server.reservations import domain, repository, service
from gameops.server.reservations.repository import Row
from gameops.server.reservations.schemas import (
    BookablePc,
    Booked,
    BookingOptions,
    ReservationCancel,
    ReservationCreate,
    ReservationMove,
    ReservationPublic,
)
from gameops.server.stations.domain import StationType
from gameops.server.users.domain import Role

router = APIRouter(tags=["reservations"])
# Days the timeline may show: far enough either way, and clear of datetime's limits.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


@router.get("/reservations/options")
async def booking_options(db: DbDep, settings: SettingsDep, _: CurrentUser) -> BookingOptions:
    """What may be booked (PCs, zones) and on what terms (deposit, no-show rule)."""
    pcs = await repository.bookable(db)
    return BookingOptions(
        stations=[BookablePc.model_validate(pc) for pc in pcs],
        zones=sorted({pc.zone for pc in pcs if pc.zone and pc.type is StationType.PC}),
        deposit=settings.reservation_deposit,
        currency=settings.currency,
        no_show_minutes=settings.reservation_no_show_minutes,
        no_show_keeps_deposit=settings.reservation_no_show_keeps_deposit,
        notice_minutes=settings.reservation_notice_minutes,
    )


@router.post(
    "/reservations",
    status_code=status.HTTP_201_CREATED,
    response_model=Booked,
    responses={409: {"description": "the PC (or every PC in the zone) is booked then"}},
)
async def book(
    body: ReservationCreate,
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Book a PC, or any free PC in a zone, and take the deposit from the balance. A member
    books for themselves; staff give ``user_id``. 409 when the slot is taken. A retry with
    the same ``Idempotency-Key`` gets the first answer and takes no second deposit."""

    async def run() -> Answer:
        rules = service.rules_from_settings(settings)
        reservation, station = await service.book(db, rules, user, body, utc_now())
        public = await _one(db, reservation.id)
        picked = f" (the free PC picked in {body.zone})" if body.zone else ""
        message = f"{station.name}{picked} is booked for {public.customer_name}"
        return 201, Booked(**public.model_dump(), message=message).model_dump(mode="json")

    print_ = fingerprint("reservations.book", user.id, body.model_dump(mode="json"))
    return await answer_once(db, idempotency_key, print_, user.id, run)


@router.get("/reservations")
async def day_of_bookings(
    db: DbDep,
    settings: SettingsDep,
    _: StaffUser,
    day: Annotated[
        date | None,
        Query(description="a day on the venue's clock; today if unset", ge=FIRST_DAY, le=LAST_DAY),
    ] = None,
) -> list[ReservationPublic]:
    """Every booking that touches the day (any status), for the timeline."""
    zone = ZoneInfo(settings.venue_timezone)
    day = day or utc_now().astimezone(zone).date()
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return [_public(row) for row in await repository.between(db, start, end)]


@router.get("/me/reservations")
async def my_reservations(
    db: DbDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ReservationPublic]:
    """The member's bookings that have not ended yet, soonest first."""
    if user.role is not Role.CUSTOMER:
        raise Forbidden("This page is for customers; staff use the dashboard")
    rows = await repository.of_member(db, user.id, utc_now() - timedelta(hours=1), limit)
    return [_public(row) for row in rows]


@router.patch(
    "/reservations/{reservation_id}",
    response_model=Booked,
    responses={409: {"description": "the new slot is taken, or the booking cannot move"}},
)
async def move(
    reservation_id: uuid.UUID,
    body: ReservationMove,
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Move a waiting booking to another time and/or station: a member their own until it
    starts, staff any. The deposit stays as it is. 409 when the new slot is taken. A retry
    with the same ``Idempotency-Key`` gets the first answer."""

    async def run() -> Answer:
        rules = service.rules_from_settings(settings)
        reservation, station = await service.move(db, rules, user, reservation_id, body, utc_now())
        public = await _one(db, reservation.id)
        when = domain.local_clock(reservation.starts_at, rules.venue_timezone)
        message = f"Moved: {station.name} at {when} for {public.customer_name}"
        return 200, Booked(**public.model_dump(), message=message).model_dump(mode="json")

    request = {"id": str(reservation_id), **body.model_dump(mode="json")}
    print_ = fingerprint("reservations.move", user.id, request)
    return await answer_once(db, idempotency_key, print_, user.id, run)


@router.post("/reservations/{reservation_id}/cancel")
async def cancel(
    reservation_id: uuid.UUID,
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUser,
    body: ReservationCancel | None = None,
) -> ReservationPublic:
    """Cancel: a member their own, until it starts (deposit back); staff any active one
    (deposit back unless ``keep_deposit``)."""
    rules = service.rules_from_settings(settings)
    keep = body.keep_deposit if body else False
    reservation = await service.cancel(db, rules, user, reservation_id, keep, utc_now())
    return await _one(db, reservation.id)


async def _one(db: AsyncSession, reservation_id: uuid.UUID) -> ReservationPublic:
    row = await repository.with_names(db, reservation_id)
    assert row is not None  # written or read in this transaction
    return _public(row)


def _public(row: Row) -> ReservationPublic:
    reservation, station_name, username, full_name = row
    return ReservationPublic(
        **{key: getattr(reservation, key) for key in _COLUMNS},
        station_name=station_name,
        customer_name=full_name or username,
    )


_COLUMNS = [
    name
    for name in ReservationPublic.model_fields
    if name not in ("station_name", "customer_name") and hasattr(Reservation, name)
]
