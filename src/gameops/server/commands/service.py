"""Staff commands to stations: issue one (or one per station of a selection), deliver the
queued ones when an agent syncs, and record what the agent says came of each.

A command for an online agent goes through the outbox to whichever replica holds its
connection; one for an offline agent waits in ``station_commands`` (message, lock) until
its ``sync_request``. Every step is a domain event: an audit line on the live feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import CommandKind as WireKind
from gameops.protocol import CommandResult, Payload, StationCommand, WakeRelay, encode, utc_now
from gameops.server.bus import AGENT_COMMANDS
from gameops.server.commands import repository
from gameops.server.commands.domain import (
    CommandKind,
    CommandStatus,
    Plan,
    SessionEffect,
    Target,
    expired,
    plan,
    route_wake,
    unanswered,
    wake_mac,
)
from gameops.server.commands.events import (
    StationCommandFinished,
    StationCommandIssued,
    StationCommandRefused,
    StationCommandSeen,
)
from gameops.server.db.engine import Database
from gameops.server.db.models import Station, StationCommandRecord, User
from gameops.server.errors import GameOpsError, NotFound
from gameops.server.events.base import record as record_event
from gameops.server.outbox.store import stage
from gameops.server.sessions import repository as sessions
from gameops.server.sessions import service as sessions_service
from gameops.server.settings import Settings
from gameops.server.stations import service as stations
from gameops.server.stations import tamper as defences
from gameops.server.stations.domain import StationType

Record = StationCommandRecord
WIRE_KINDS: dict[CommandKind, WireKind] = {
    CommandKind.MESSAGE: "message",
    CommandKind.LOCK: "lock",
    CommandKind.LOGOFF: "logoff",
    CommandKind.RESTART: "restart",
    CommandKind.SHUTDOWN: "shutdown",
}


class ServerWake(Protocol):
    """Sends a magic packet from the server, after the commit, and records the result."""

    def after_commit(
        self, db: AsyncSession, command_id: uuid.UUID, mac: str, address: str, port: int
    ) -> None: ...


@dataclass(frozen=True)
class CommandRequest:
    kind: CommandKind
    text: str = ""
    confirm: bool = False


@dataclass(frozen=True)
class Refusal:
    status_code: int
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


async def issue_one(
    database: Database,
    settings: Settings,
    wake: ServerWake,
    station_id: uuid.UUID,
    request: CommandRequest,
    actor: User,
) -> Record:
    """:func:`issue` in a transaction of its own, so that a refusal, which rolls it back,
    can still be audited: in the next transaction (on SQLite the one connection is free only
    then)."""
    try:
        async with database.transaction() as db:
            return await issue(db, settings, wake, station_id, request, actor)
    except GameOpsError as err:
        if _audited(err):
            async with database.transaction() as db:
                _refused(db, station_id, request, actor, err)
        raise


async def issue(
    db: AsyncSession,
    settings: Settings,
    wake: ServerWake,
    station_id: uuid.UUID,
    request: CommandRequest,
    actor: User,
) -> Record:
    """Carry out ``request`` on one station, or raise the error staff see (nothing written)."""
    station = await stations.get_station(db, station_id, lock=True)
    active = await sessions.active_on_station(db, station.id)
    how = plan(
        request.kind, _target(station, active is not None), request.text, confirm=request.confirm
    )
    command = Record(
        id=uuid.uuid4(),
        station_id=station.id,
        kind=request.kind,
        text=request.text.strip() or None,
        status=CommandStatus.SENT,
        requested_by=actor.id,
        session_id=active.id if active is not None and how.session_effect else None,
        session_effect=how.session_effect,
        sent_at=utc_now(),
    )
    await _deliver(db, settings, wake, station, command, how, actor)
    db.add(command)
    _issued(db, command, actor)
    if how.delivery == "server":  # clear_tamper: done here, the agent is told by tamper_clear
        await defences.clear_tamper_lock(db, station, actor)
        _finish(db, command, True, "Tamper lock cleared; the agent is told to unlock")
    if how.session_effect is SessionEffect.ENDED and active is not None:
        await sessions_service.stop_session(settings, db, active.id, actor)
    await db.flush()
    return command


async def issue_many(
    db: AsyncSession,
    settings: Settings,
    wake: ServerWake,
    station_ids: list[uuid.UUID],
    request: CommandRequest,
    actor: User,
) -> list[tuple[uuid.UUID, Record | Refusal]]:
    """``request`` on each station; a station that refuses does not stop the others (the
    rules refuse before anything is written, so one transaction holds them all)."""
    outcomes: list[tuple[uuid.UUID, Record | Refusal]] = []
    asked = {station_id: place for place, station_id in enumerate(dict.fromkeys(station_ids))}
    # In id order, as every writer locks stations, so two selections cannot deadlock.
    for station_id in sorted(asked):
        try:
            outcomes.append(
                (station_id, await issue(db, settings, wake, station_id, request, actor))
            )
        except GameOpsError as err:
            if _audited(err):  # in this transaction: it commits with the other stations' commands
                _refused(db, station_id, request, actor, err)
            outcomes.append((station_id, Refusal(err.status_code, err.detail, err.extra)))
    return sorted(outcomes, key=lambda outcome: asked[outcome[0]])


async def _deliver(
    db: AsyncSession,
    settings: Settings,
    wake: ServerWake,
    station: Station,
    command: Record,
    how: Plan,
    actor: User,
) -> None:
    if how.delivery == "queue":
        command.status, command.sent_at = CommandStatus.QUEUED, None
    elif how.delivery == "send":
        _send(db, command.station_id, _wire(command, actor.username))
    elif how.delivery == "wake":
        await _wake(db, settings, wake, station, command)


async def _wake(
    db: AsyncSession, settings: Settings, wake: ServerWake, station: Station, command: Record
) -> None:
    mac = wake_mac(station.specs)
    assert mac is not None  # plan() refused a station without one
    relays = await repository.online_pcs(db, station.id)
    route = route_wake(
        station.specs,
        relays,
        from_server=settings.wake_from_server,
        server_address=settings.wake_broadcast_address,
    )
    if route.relay_station_id is None:
        wake.after_commit(db, command.id, mac, route.address, settings.wake_port)
        return
    command.via_station_id = route.relay_station_id
    relay = WakeRelay(id=command.id, mac=mac, address=route.address, port=settings.wake_port)
    _send(db, route.relay_station_id, relay)


async def record_result(db: AsyncSession, station_id: uuid.UUID, result: CommandResult) -> None:
    """What the agent (or the wake relay) says came of a command; repeats change nothing."""
    command = await repository.for_result(db, result.id, station_id)
    if command is None:
        raise NotFound("Unknown command")
    if result.seen:
        if command.seen_at is None:
            command.seen_at = utc_now()
            record_event(
                db,
                StationCommandSeen(
                    station_id=command.station_id,
                    command_id=command.id,
                    actor_id=command.requested_by,
                ),
            )
        return
    if command.status in (CommandStatus.SENT, CommandStatus.QUEUED):
        _finish(db, command, result.ok, result.detail)


async def finish(db: AsyncSession, command_id: uuid.UUID, ok: bool, detail: str) -> None:
    """The server's own part of a command is done (a wake sent from the server)."""
    command = await repository.get(db, command_id)
    if command is not None and command.status is CommandStatus.SENT:
        _finish(db, command, ok, detail)


async def due_on_sync(db: AsyncSession, station_id: uuid.UUID, queue_minutes: int) -> list[Payload]:
    """The commands to give an agent that (re)connects, marked sent; those left waiting
    longer than ``queue_minutes`` fail as expired instead."""
    return _send_on_sync(db, await repository.due_on_sync(db, station_id), queue_minutes)


async def due_on_sync_many(
    db: AsyncSession, station_ids: Collection[uuid.UUID], queue_minutes: int
) -> dict[uuid.UUID, list[Payload]]:
    """``due_on_sync`` of many stations at once (those with any commands to give)."""
    due = await repository.due_on_sync_many(db, station_ids)
    return {sid: _send_on_sync(db, commands, queue_minutes) for sid, commands in due.items()}


def _send_on_sync(
    db: AsyncSession, due: list[tuple[StationCommandRecord, str]], queue_minutes: int
) -> list[Payload]:
    now = utc_now()
    wire: list[Payload] = []
    for command, by in due:
        if expired(command.created_at, now, queue_minutes):
            detail = f"expired: the PC was offline for more than {queue_minutes} minutes"
            _finish(db, command, False, detail)
        else:
            command.status, command.sent_at = CommandStatus.SENT, now
            wire.append(_wire(command, by))
    return wire


async def sweep_unanswered(db: AsyncSession, answer_seconds: int, queue_minutes: int) -> int:
    """Fail the commands whose answer is not coming (see ``domain.unanswered``)."""
    now = utc_now()
    cutoff = now - timedelta(seconds=min(answer_seconds, queue_minutes * 60))
    decided = 0
    for command in await repository.unanswered(db, cutoff):
        assert command.sent_at is not None  # SENT
        verdict = unanswered(command.kind, command.sent_at, now, answer_seconds, queue_minutes)
        if verdict is not None:
            _finish(db, command, False, verdict)
            decided += 1
    return decided


def _target(station: Station, in_session: bool) -> Target:
    return Target(
        name=station.name,
        is_pc=station.type is StationType.PC,
        online=station.agent_connected,
        in_session=in_session,
        tamper_locked=station.tamper_locked_at is not None,
        mac=wake_mac(station.specs),
    )


def _wire(command: Record, by: str | None) -> StationCommand:
    kind = WIRE_KINDS[command.kind]  # plan() sends only these to an agent
    return StationCommand(id=command.id, kind=kind, text=command.text or "", by=by)


def _send(db: AsyncSession, station_id: uuid.UUID, payload: Payload) -> None:
    frame = encode(payload, getattr(payload, "id", None))
    stage(db, AGENT_COMMANDS, {"station_id": str(station_id), "frame": frame})


def _issued(db: AsyncSession, command: Record, actor: User) -> None:
    record_event(
        db,
        StationCommandIssued(
            station_id=command.station_id,
            actor_id=actor.id,
            command_id=command.id,
            kind=command.kind,
            status=command.status,
            by=actor.username,
            text=command.text,
            via_station_id=command.via_station_id,
            session_id=command.session_id,
            session_effect=command.session_effect.value if command.session_effect else None,
        ),
    )


def _audited(err: GameOpsError) -> bool:
    """A refusal of the rules is audited; an unknown station, or a restart waiting for
    staff to confirm it (a question, asked again with ``confirm``), is not."""
    return not isinstance(err, NotFound) and not err.extra.get("confirm_required")


def _refused(
    db: AsyncSession,
    station_id: uuid.UUID,
    request: CommandRequest,
    actor: User,
    err: GameOpsError,
) -> None:
    offer = err.extra.get("offer")
    record_event(
        db,
        StationCommandRefused(
            station_id=station_id,
            actor_id=actor.id,
            kind=request.kind,
            by=actor.username,
            detail=err.detail[:500],
            offer=str(offer) if offer is not None else None,
        ),
    )


def _finish(db: AsyncSession, command: Record, ok: bool, detail: str) -> None:
    command.status = CommandStatus.DONE if ok else CommandStatus.FAILED
    command.ok, command.detail, command.done_at = ok, detail[:500], utc_now()
    record_event(
        db,
        StationCommandFinished(
            station_id=command.station_id,
            actor_id=command.requested_by,
            command_id=command.id,
            kind=command.kind,
            ok=ok,
            detail=command.detail or "",
        ),
    )
