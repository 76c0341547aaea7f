from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from gameops.server.deps import DbDep, StaffUser
from gameops.server.floor import service
from gameops.server.floor.schemas import Floor

router = APIRouter(prefix="/floor", tags=["floor"])


@router.get("")
async def read_floor(
    db: DbDep,
    _: StaffUser,
    station_id: Annotated[
        list[uuid.UUID] | None,
        Query(max_length=500, description="only these stations (an archived one is left out)"),
    ] = None,
) -> Floor:
    """Every station in use, by zone and name, with the session holding it (running, or
    sold by card and waiting for the payment; customer and time left) and its latest agent
    or device error or tamper report of the last 15 minutes."""
    return await service.read_floor(db, station_id)
