"""Stations: the catalogue staff manage, their status, and their agents' credentials."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import utc_now
from gameops.protocol.agent_token import new_agent_token
from gameops.server.auth.security import hash_agent_token
from gameops.server.db.models import AgentToken, Station
from gameops.server.errors import Conflict, NotFound, Unprocessable
from gameops.server.events.base import record
from gameops.server.stations import repository
from gameops.server.stations.device_secrets import DeviceSecrets
from gameops.server.stations.domain import (
    StationStatus,
    StationType,
    idle_status,
    status_after_request,
)
from gameops.server.stations.events import (
    AgentAccessEnded,
    AgentTokenGranted,
    AgentTokenRevoked,
    StationArchived,
    StationCreated,
    StationStatusChanged,
    StationUpdated,
)
from gameops.server.stations.schemas import (
    AgentTokenIssued,
    ControllerConfig,
    StationCreate,
    StationUpdate,
)


async def get_station(db: AsyncSession, station_id: uuid.UUID, *, lock: bool = False) -> Station:
    station = await repository.get_live(db, station_id, lock=lock)
    if station is None:
        raise NotFound("Station not found")
    return station


async def create_station(
    db: AsyncSession,
    data: StationCreate,
    actor_id: uuid.UUID,
    secrets: DeviceSecrets | None = None,
) -> Station:
    station = _new_station(data, secrets)
    db.add(station)
    await _flush_unique_name(db, data.name)
    _record_created(db, station, actor_id)
    return station


async def import_stations(
    db: AsyncSession,
    rows: list[StationCreate],
    actor_id: uuid.UUID,
    *,
    agent_tokens: bool,
    dry_run: bool = False,
    secrets: DeviceSecrets | None = None,
) -> list[tuple[Station, str | None]]:
    """Creates every row, or none: a name taken (in use, or twice in the rows) or a row
    that cannot be built is reported with its index (``Conflict`` with ``rows``). Each
    station and each token is audited as when created alone. With ``agent_tokens``, each
    PC station gets its agent's token (returned; only its hash is kept)."""
    stations, problems = await _check_import(db, rows, secrets)
    if problems:
        raise Conflict(
            f"{len(problems)} of {len(rows)} rows cannot be imported; none was", rows=problems
        )
    if dry_run:
        return [(station, None) for station in stations]
    db.add_all(stations)
    await _flush_unique_name(db, "(one of the rows)")  # a name taken meanwhile
    created: list[tuple[Station, str | None]] = []
    for station in stations:
        _record_created(db, station, actor_id)
        token = None
        if agent_tokens and station.type is StationType.PC:
            token = new_agent_token()
            row = AgentToken(
                station_id=station.id, token_hash=hash_agent_token(token), created_by=actor_id
            )
            db.add(row)
            granted = AgentTokenGranted(
                station_id=station.id, actor_id=actor_id, revoked_previous=False
            )
            record(db, granted)
        created.append((station, token))
    return created


async def _check_import(
    db: AsyncSession, rows: list[StationCreate], secrets: DeviceSecrets | None
) -> tuple[list[Station], list[dict[str, object]]]:
    problems: list[dict[str, object]] = []
    taken = await repository.live_names(db, {row.name for row in rows})
    first: dict[str, int] = {}
    stations: list[Station] = []
    for index, row in enumerate(rows):
        if row.name in taken:
            problems.append({"row": index, "name": row.name, "error": "name already in use"})
        elif first.setdefault(row.name, index) != index:
            error = f"same name as row {first[row.name]}"
            problems.append({"row": index, "name": row.name, "error": error})
        try:
            stations.append(_new_station(row, secrets))
        except Unprocessable as err:
            problems.append({"row": index, "name": row.name, "error": err.detail})
    return stations, problems


def _new_station(data: StationCreate, secrets: DeviceSecrets | None) -> Station:
    station = Station(
        **data.model_dump(exclude={"controller"}),
        id=uuid.uuid4(),
        status=idle_status(data.type, agent_connected=False),
        agent_connected=False,
    )
    if data.controller is not None:
        set_controller(station, data.controller, secrets)
    return station


def _record_created(db: AsyncSession, station: Station, actor_id: uuid.UUID) -> None:
    record(
        db,
        StationCreated(
            station_id=station.id,
            actor_id=actor_id,
            name=station.name,
            station_type=station.type.value,
        ),
    )


async def update_station(
    db: AsyncSession,
    station: Station,
    data: StationUpdate,
    actor_id: uuid.UUID,
    secrets: DeviceSecrets | None = None,
) -> Station:
    changes = data.model_dump(exclude_unset=True, exclude={"status", "controller"})
    for name, value in changes.items():
        setattr(station, name, value)
    if "controller" in data.model_fields_set:
        set_controller(station, data.controller, secrets)
        changes["controller"] = station.controller
    if changes:
        await _flush_unique_name(db, station.name)
        public = {k: v for k, v in changes.items() if k != "specs"}
        record(db, StationUpdated(station_id=station.id, actor_id=actor_id, changes=public))
    if data.status is not None:
        requested = status_after_request(
            station.status, data.status, station.type, station.agent_connected
        )
        set_status(db, station, requested, actor_id=actor_id, reason="staff")
    return station


async def archive_station(db: AsyncSession, station: Station, actor_id: uuid.UUID) -> None:
    """Stations are archived, not erased: their sessions and payments stay in the books."""
    if station.status is StationStatus.IN_SESSION:
        raise Conflict("Station has an active session; stop it first")
    station.archived_at = utc_now()
    await repository.revoke_tokens(db, station.id)
    record(db, StationArchived(station_id=station.id, actor_id=actor_id, name=station.name))
    disconnect_agent(db, station.id, reason="station deleted")


async def issue_agent_token(
    db: AsyncSession, station: Station, actor_id: uuid.UUID
) -> AgentTokenIssued:
    """A new token for the station's agent; any older one stops working at once."""
    revoked = await repository.revoke_tokens(db, station.id)
    token = new_agent_token()
    row = AgentToken(station_id=station.id, token_hash=hash_agent_token(token), created_by=actor_id)
    db.add(row)
    await db.flush()
    record(
        db,
        AgentTokenGranted(station_id=station.id, actor_id=actor_id, revoked_previous=bool(revoked)),
    )
    if revoked:
        disconnect_agent(db, station.id, reason="agent token replaced")
    return AgentTokenIssued(station_id=station.id, token=token, created_at=row.created_at)


async def revoke_agent_token(db: AsyncSession, station: Station, actor_id: uuid.UUID) -> None:
    if not await repository.revoke_tokens(db, station.id):
        raise NotFound("Station has no agent token")
    record(db, AgentTokenRevoked(station_id=station.id, actor_id=actor_id))
    disconnect_agent(db, station.id, reason="agent token revoked")


def set_controller(
    station: Station, config: ControllerConfig | None, secrets: DeviceSecrets | None
) -> None:
    """Stores a console's devices; passwords go encrypted, and one left out is kept."""
    if config is None or (config.shelly is None and config.mikrotik is None):
        station.controller, station.controller_secret = None, None
        return
    if station.type is not StationType.CONSOLE:
        raise Unprocessable("Only console stations have a plug or router controller")
    if secrets is None:
        raise RuntimeError("device secrets are needed to store device passwords")
    kept = secrets.open(station.controller_secret)
    passwords: dict[str, str] = {}
    public: dict[str, object] = {}
    for kind in ("shelly", "mikrotik"):
        device = getattr(config, kind)
        if device is None:
            continue
        public[kind] = device.model_dump(mode="json", exclude={"password"})
        if device.password is not None:
            passwords[kind] = device.password.get_secret_value()
        elif kind in kept:
            passwords[kind] = kept[kind]
    station.controller = public
    station.controller_secret = secrets.seal(passwords)


def set_status(
    db: AsyncSession,
    station: Station,
    status: StationStatus,
    *,
    actor_id: uuid.UUID | None = None,
    reason: str,
) -> None:
    """The one way a station's status changes: every change is an audit event."""
    if station.status is status:
        return
    previous, station.status = station.status, status
    record(
        db,
        StationStatusChanged(
            station_id=station.id,
            actor_id=actor_id,
            previous=previous,
            status=status,
            reason=reason,
        ),
    )


def disconnect_agent(db: AsyncSession, station_id: uuid.UUID, reason: str) -> None:
    """After commit, whichever server holds this station's agent closes it."""
    record(db, AgentAccessEnded(station_id=station_id, reason=reason))


async def _flush_unique_name(db: AsyncSession, name: str) -> None:
    try:
        await db.flush()
    except IntegrityError as err:
        raise Conflict(f"A station named {name!r} already exists") from err
