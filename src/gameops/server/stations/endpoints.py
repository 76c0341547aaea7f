from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from gameops.server.deps import AdminUser, DbDep, PageDep, StaffUser
from gameops.server.schemas import Paginated
from gameops.server.stations import repository, service
from gameops.server.stations import tamper as defences
from gameops.server.stations.device_secrets import DeviceSecrets
from gameops.server.stations.domain import StationStatus, StationType
from gameops.server.stations.schemas import (
    AgentTokenIssued,
    ImportedStation,
    StationCreate,
    StationImport,
    StationImportResult,
    StationPublic,
    StationUpdate,
)

router = APIRouter(prefix="/stations", tags=["stations"])


def _device_secrets(request: Request) -> DeviceSecrets:
    secrets: DeviceSecrets = request.app.state.device_secrets
    return secrets


DeviceSecretsDep = Annotated[DeviceSecrets, Depends(_device_secrets)]


@router.get("", response_model=Paginated[StationPublic])
async def list_stations(
    db: DbDep,
    _: StaffUser,
    page: PageDep,
    type: StationType | None = None,
    status: StationStatus | None = None,
) -> Paginated[StationPublic]:
    rows, total = await repository.list_live(db, page.offset, page.per_page, type, status)
    return page.of(StationPublic, rows, total)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_station(
    body: StationCreate, db: DbDep, admin: AdminUser, secrets: DeviceSecretsDep
) -> StationPublic:
    return StationPublic.model_validate(await service.create_station(db, body, admin.id, secrets))


@router.post("/import", status_code=status.HTTP_201_CREATED)
async def import_stations(
    body: StationImport, db: DbDep, admin: AdminUser, secrets: DeviceSecretsDep
) -> StationImportResult:
    """Up to 1,000 stations in one request, all or none (409 with each refused row's
    index and why); with ``agent_tokens``, each PC's token, shown once."""
    created = await service.import_stations(
        db,
        body.stations,
        admin.id,
        agent_tokens=body.agent_tokens,
        dry_run=body.dry_run,
        secrets=secrets,
    )
    stations = [
        ImportedStation(
            id=None if body.dry_run else station.id,
            name=station.name,
            type=station.type,
            agent_token=token,
        )
        for station, token in created
    ]
    return StationImportResult(created=0 if body.dry_run else len(stations), stations=stations)


@router.get("/{station_id}")
async def get_station(station_id: uuid.UUID, db: DbDep, _: StaffUser) -> StationPublic:
    return StationPublic.model_validate(await service.get_station(db, station_id))


@router.patch("/{station_id}")
async def update_station(
    station_id: uuid.UUID,
    body: StationUpdate,
    db: DbDep,
    admin: AdminUser,
    secrets: DeviceSecretsDep,
) -> StationPublic:
    station = await service.get_station(db, station_id, lock=True)
    updated = await service.update_station(db, station, body, admin.id, secrets)
    return StationPublic.model_validate(updated)


@router.delete("/{station_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_station(station_id: uuid.UUID, db: DbDep, admin: AdminUser) -> None:
    station = await service.get_station(db, station_id, lock=True)
    await service.archive_station(db, station, admin.id)


@router.post("/{station_id}/agent-token", status_code=status.HTTP_201_CREATED)
async def issue_agent_token(station_id: uuid.UUID, db: DbDep, admin: AdminUser) -> AgentTokenIssued:
    station = await service.get_station(db, station_id, lock=True)
    return await service.issue_agent_token(db, station, admin.id)


@router.delete("/{station_id}/agent-token", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_agent_token(station_id: uuid.UUID, db: DbDep, admin: AdminUser) -> None:
    station = await service.get_station(db, station_id, lock=True)
    await service.revoke_agent_token(db, station, admin.id)


@router.delete("/{station_id}/tamper-lock", status_code=status.HTTP_204_NO_CONTENT)
async def clear_tamper_lock(station_id: uuid.UUID, db: DbDep, staff: StaffUser) -> None:
    """Clear the station's tamper lock (audited: TAMPER_LOCK_CLEARED with who and when);
    the agent unlocks if paid time is running. 409 if the station is not tamper-locked."""
    station = await service.get_station(db, station_id, lock=True)
    await defences.clear_tamper_lock(db, station, staff)
