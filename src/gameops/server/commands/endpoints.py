"""Staff commands: to one station, to a selection, and their history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from gameops.server.commands import repository, service
from gameops.server.commands.schemas import (
    BulkCommandCreate,
    BulkCommandResult,
    CommandCreate,
    CommandOutcome,
    CommandPublic,
)
from gameops.server.commands.service import CommandRequest, Refusal, ServerWake
from gameops.server.deps import DatabaseDep, DbDep, PageDep, SettingsDep, StaffUser
from gameops.server.errors import NotFound
from gameops.server.schemas import Paginated

router = APIRouter(tags=["commands"])


def _wake(request: Request) -> ServerWake:
    wake: ServerWake = request.app.state.wake_sender
    return wake


WakeDep = Annotated[ServerWake, Depends(_wake)]


def _request(body: CommandCreate) -> CommandRequest:
    return CommandRequest(body.kind, body.text, body.confirm)


@router.post("/stations/{station_id}/commands", status_code=status.HTTP_201_CREATED)
async def command_station(
    station_id: uuid.UUID,
    body: CommandCreate,
    database: DatabaseDep,
    settings: SettingsDep,
    wake: WakeDep,
    staff: StaffUser,
) -> CommandPublic:
    """Send a command to one station. 409 with ``offer: "wake"`` for a restart of an offline
    PC; 409 with ``confirm_required`` and ``session_effect_text`` for a restart or shutdown
    during a paid session (send again with ``confirm: true``). A refusal is audited too
    (``STATION_COMMAND_REFUSED``)."""
    request = _request(body)
    command = await service.issue_one(database, settings, wake, station_id, request, staff)
    return CommandPublic.model_validate(command)


@router.post("/commands")
async def command_stations(
    body: BulkCommandCreate, db: DbDep, settings: SettingsDep, wake: WakeDep, staff: StaffUser
) -> BulkCommandResult:
    """The same command to each station of a selection; each is sent or refused on its own."""
    outcomes = await service.issue_many(db, settings, wake, body.station_ids, _request(body), staff)
    return BulkCommandResult(outcomes=[_outcome(s, o) for s, o in outcomes])


@router.get("/commands", response_model=Paginated[CommandPublic])
async def list_commands(
    db: DbDep, _: StaffUser, page: PageDep, station_id: uuid.UUID | None = None
) -> Paginated[CommandPublic]:
    """Commands newest first: who asked what, when, and what came of it."""
    rows, total = await repository.page(db, page.offset, page.per_page, station_id)
    return page.of(CommandPublic, rows, total)


@router.get("/commands/{command_id}")
async def get_command(command_id: uuid.UUID, db: DbDep, _: StaffUser) -> CommandPublic:
    command = await repository.get(db, command_id)
    if command is None:
        raise NotFound("Command not found")
    return CommandPublic.model_validate(command)


def _outcome(station_id: uuid.UUID, outcome: object) -> CommandOutcome:
    if isinstance(outcome, Refusal):
        return CommandOutcome(
            station_id=station_id,
            error=outcome.detail,
            status_code=outcome.status_code,
            extra=outcome.extra,
        )
    return CommandOutcome(station_id=station_id, command=CommandPublic.model_validate(outcome))
