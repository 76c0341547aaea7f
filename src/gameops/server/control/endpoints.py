"""A console plug's power readings (the station's power history)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Query

from gameops.protocol import utc_now
from gameops.server.control import repository
from gameops.server.deps import DbDep, StaffUser
from gameops.server.stations import service as stations
from gameops.server.stations.schemas import PowerSamplePublic

router = APIRouter(prefix="/stations", tags=["stations"])


@router.get("/{station_id}/power")
async def power_history(
    station_id: uuid.UUID,
    db: DbDep,
    _: StaffUser,
    hours: float = Query(default=24, gt=0, le=30 * 24, description="how far back"),
) -> list[PowerSamplePublic]:
    """A console plug's readings, oldest first (one a minute by default, kept 30 days)."""
    station = await stations.get_station(db, station_id)
    since = utc_now() - timedelta(hours=hours)
    rows = await repository.samples(db, station.id, since)
    return [PowerSamplePublic.model_validate(row) for row in rows]
