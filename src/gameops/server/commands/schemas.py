from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from gameops.server.commands.domain import MAX_TEXT, CommandKind, CommandStatus, SessionEffect
from gameops.server.schemas import Schema

CommandText = Annotated[str, Field(max_length=MAX_TEXT, description="the message to show")]


class CommandCreate(BaseModel):
    kind: CommandKind
    text: CommandText = ""
    confirm: bool = Field(
        default=False, description="restart/shutdown during a paid session: staff confirmed"
    )


class BulkCommandCreate(CommandCreate):
    station_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=500)]


class CommandPublic(Schema):
    id: uuid.UUID
    station_id: uuid.UUID
    kind: CommandKind
    text: str | None
    status: CommandStatus
    requested_by: uuid.UUID
    via_station_id: uuid.UUID | None
    session_id: uuid.UUID | None
    session_effect: SessionEffect | None
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    ok: bool | None
    detail: str | None
    seen_at: datetime | None


class CommandOutcome(BaseModel):
    """One station of a selection: its command, or why it was refused."""

    station_id: uuid.UUID
    command: CommandPublic | None = None
    error: str | None = None
    status_code: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class BulkCommandResult(BaseModel):
    outcomes: list[CommandOutcome]
