"""``GET /pricing/quote``: what selling time would charge now. It lives with the sessions
because it answers the sale's own questions (which session may be extended, from when)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.server.accounts import service as accounts
from gameops.server.accounts.domain import check_amount
from gameops.server.deps import DbDep, SettingsDep, StaffUser
from gameops.server.errors import BadRequest
from gameops.server.pricing import service as pricing
from gameops.server.pricing.schemas import QuotePublic
from gameops.server.sessions import service
from gameops.server.sessions.domain import SessionStatus, check_duration
from gameops.server.sessions.service import time_tax
from gameops.server.settings import Settings
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
    return await quote_sale(settings, db, station_id, minutes, user_id, session_id)


async def quote_sale(
    settings: Settings,
    db: AsyncSession,
    station_id: uuid.UUID,
    minutes: int,
    user_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
) -> QuotePublic:
    """The same price a start (or the extension of ``session_id``) would charge now."""
    check_duration(minutes, settings.max_session_minutes, "minutes")
    station = await stations.get_station(db, station_id)
    customer = await accounts.get_customer(db, user_id) if user_id else None
    starts_at = utc_now()
    if session_id is not None:
        session = await service.get_session(db, session_id)
        if session.status is not SessionStatus.ACTIVE or session.station_id != station.id:
            raise BadRequest("Only an active session on this station can be extended")
        starts_at = session.scheduled_end_at
        customer = await service.customer_of(db, session)
    quote = await pricing.quote_for(
        db, station, customer, minutes, starts_at, settings.venue_timezone, time_tax(settings)
    )
    check_amount(quote.amount, settings.max_amount, "the price")
    return pricing.quote_public(quote, settings.currency)
