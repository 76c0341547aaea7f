"""What the server does with each message an agent sends. Each handler runs in its own
transaction and returns the replies to send; it never touches the socket itself.
Heartbeats and hellos are the exceptions: written in batches (``heartbeats.py``,
``presence_writes.py``)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import (
    Ack,
    Auth,
    CommandResult,
    Error,
    Goodbye,
    Login,
    Logout,
    NoSession,
    Payload,
    SessionStart,
    StatusChange,
    SyncRequest,
    SyncResponse,
    Tamper,
    utc_now,
)
from gameops.server.commands import service as commands
from gameops.server.control.pc_agent import ended_message, expired_message, session_info
from gameops.server.db.engine import Database
from gameops.server.db.models import AgentCommand, GameSession, Station
from gameops.server.errors import NotFound
from gameops.server.metrics import Metrics
from gameops.server.play import service as play
from gameops.server.play.service import PlayDesk, PlayRules
from gameops.server.realtime.acks import AckRecorder
from gameops.server.realtime.admission import Admission
from gameops.server.realtime.heartbeats import Beat, HeartbeatBatcher
from gameops.server.realtime.hub import AgentHub
from gameops.server.realtime.presence_writes import Describe, PresenceWriter
from gameops.server.realtime.sync_requests import AnswerMany, SyncAnswers
from gameops.server.realtime.token_lookups import TokenLookup
from gameops.server.sessions import repository as sessions
from gameops.server.sessions.domain import SessionStatus
from gameops.server.sessions.service import start_clock
from gameops.server.settings import Settings
from gameops.server.stations import repository as stations_repository
from gameops.server.stations import service as stations
from gameops.server.stations import tamper as defences
from gameops.server.stations.domain import StationStatus, status_after_request
from gameops.server.throttle import Rule, Throttle


@dataclass(frozen=True)
class AgentAuthLimits:
    """Failed agent-token attempts, per client address and per station."""

    throttle: Throttle
    per_ip: Rule
    per_station: Rule

    @classmethod
    def from_settings(cls, settings: Settings, throttle: Throttle) -> AgentAuthLimits:
        return cls(
            throttle,
            Rule.of("agent-auth-ip", settings.agent_auth_limit_per_ip),
            Rule.of("agent-auth-station", settings.agent_auth_limit_per_station),
        )


@dataclass(frozen=True)
class AgentServices:
    """What the agent socket and its handlers use; built once by the composition root."""

    settings: Settings
    database: Database
    hub: AgentHub
    heartbeats: HeartbeatBatcher
    presence: PresenceWriter  # connects, hellos and disconnects, batched
    tokens: TokenLookup  # the handshakes' token checks, batched
    syncs: SyncAnswers  # sync_requests, batched
    admission: Admission
    acks: AckRecorder
    auth_limits: AgentAuthLimits
    metrics: Metrics
    play: PlayDesk


Handler = Callable[[AgentServices, AsyncSession, uuid.UUID, Any], Awaitable[list[Payload]]]


async def sync_reply(
    settings: Settings, db: AsyncSession, station_id: uuid.UUID, last_known: uuid.UUID | None
) -> Payload:
    """Flow 10: tell a (re)connecting agent what it should be doing now."""
    active = await sessions.active_on_station(db, station_id)
    if active is not None and (waiting := await _still_waiting(db, active)) is not None:
        start_clock(db, waiting)  # the PC is here and takes it with this answer
    if active is not None and active.status is SessionStatus.ACTIVE:  # (read again if it waited)
        return _sync_answer(settings, station_id, active, None)
    previous = await sessions.get(db, last_known) if last_known is not None else None
    return _sync_answer(settings, station_id, None, previous)


def _sync_answer(
    settings: Settings,
    station_id: uuid.UUID,
    active: GameSession | None,
    previous: GameSession | None,
) -> Payload:
    """The station's running session, else how the session the agent knew ended."""
    now = utc_now()
    if active is not None:
        return SyncResponse(session=session_info(active), server_time=now)
    if previous is not None and previous.station_id == station_id:
        if previous.status is SessionStatus.EXPIRED:
            return expired_message(previous, settings.logoff_grace_seconds)
        if previous.status is SessionStatus.STOPPED:
            return ended_message(previous)
    return NoSession(server_time=now)


async def sync_replies(
    settings: Settings, db: AsyncSession, requests: Sequence[tuple[uuid.UUID, SyncRequest]]
) -> list[list[Payload] | Exception]:
    """``_sync`` of many agents in one transaction (a reconnect storm's sync_requests): the
    stations, their sessions and their due commands read for all at once. A station whose
    session waits for its PC (its clock starts now, under a lock), or that asks twice in
    the batch, is answered by ``_sync`` itself afterwards, in order."""
    ids = {station_id for station_id, _ in requests}
    rows = await stations_repository.live_many(db, ids)
    active = await sessions.active_on_stations(db, ids)
    asked = Counter(station_id for station_id, _ in requests)
    quick = {sid for sid in rows if asked[sid] == 1 and _not_waiting(active.get(sid))}
    known = {r.last_known_session_id for sid, r in requests if sid in quick and sid not in active}
    previous = await sessions.get_many(db, {known_id for known_id in known if known_id})
    due = await commands.due_on_sync_many(db, quick, settings.command_queue_minutes)
    replies: list[list[Payload] | Exception] = []
    for station_id, request in requests:
        if station_id not in rows:
            replies.append(NotFound("Station not found"))
        elif station_id in quick:
            last_known = request.last_known_session_id
            known_session = previous.get(last_known) if last_known is not None else None
            answer = _sync_answer(settings, station_id, active.get(station_id), known_session)
            correction = defences.tamper_correction(rows[station_id], request.tamper_locked)
            replies.append(
                [answer, *([correction] if correction else []), *due.get(station_id, [])]
            )
        else:
            replies.append(await _sync_one(settings, db, station_id, request))
    return replies


def sync_answers(settings: Settings) -> AnswerMany:
    """How ``SyncAnswers`` answers a batch of sync_requests (``sync_replies``)."""

    async def answer_many(
        db: AsyncSession, requests: Sequence[tuple[uuid.UUID, SyncRequest]]
    ) -> list[list[Payload] | Exception]:
        return await sync_replies(settings, db, requests)

    return answer_many


def _not_waiting(active: GameSession | None) -> bool:
    return active is None or active.waiting_since is None


async def _still_waiting(db: AsyncSession, active: GameSession) -> GameSession | None:
    """``active`` locked and read again if its clock waits for this PC, else None. Locked, as
    an extension locks it: the clock's start must not overwrite an end extended meanwhile."""
    if active.waiting_since is None:
        return None
    locked = await sessions.active_on_station(db, active.station_id, lock=True)
    if locked is None or locked.id != active.id or locked.waiting_since is None:
        return None
    return locked


class HeartbeatCorrections:
    """What an agent whose heartbeat disagreed with the server missed (a lost command, a
    forgotten tamper lock), decided again in a transaction of its own and sent to the
    connection that beat (``HeartbeatBatcher`` calls this after its flush)."""

    def __init__(self, settings: Settings, database: Database, hub: AgentHub) -> None:
        self._settings = settings
        self._database = database
        self._hub = hub

    async def __call__(self, station_id: uuid.UUID, beat: Beat) -> None:
        async with self._database.transaction() as db:
            station = await stations.get_station(db, station_id)
            replies: list[Payload] = []
            if (correction := defences.tamper_correction(station, beat.tamper_locked)) is not None:
                replies.append(correction)
            active = await sessions.active_on_station(db, station_id)
            if beat.session_id != (active.id if active is not None else None):
                replies.append(await sync_reply(self._settings, db, station_id, beat.session_id))
        self._hub.send_to(station_id, beat.connection_id, replies)


def login_view(rules: PlayRules) -> Describe:
    """What an agent's hello is answered with: the login view (``PresenceWriter.hello``)."""

    async def describe(db: AsyncSession, rows: Sequence[Station]) -> dict[uuid.UUID, Payload]:
        return dict(await play.station_infos(db, rules, rows))

    return describe


async def _status_change(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, change: StatusChange
) -> list[Payload]:
    station = await stations.get_station(db, station_id, lock=True)
    wanted = StationStatus(change.status)
    status = status_after_request(station.status, wanted, station.type, station.agent_connected)
    stations.set_status(db, station, status, reason="agent request")
    return []


async def _sync(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, request: SyncRequest
) -> list[Payload]:
    return await _sync_one(services.settings, db, station_id, request)


async def _sync_one(
    settings: Settings, db: AsyncSession, station_id: uuid.UUID, request: SyncRequest
) -> list[Payload]:
    replies = [await sync_reply(settings, db, station_id, request.last_known_session_id)]
    station = await stations.get_station(db, station_id)
    if (correction := defences.tamper_correction(station, request.tamper_locked)) is not None:
        replies.append(correction)
    queue_minutes = settings.command_queue_minutes
    replies += await commands.due_on_sync(db, station_id, queue_minutes)  # staff commands
    return replies


async def _ack(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, ack: Ack
) -> list[Payload]:
    """The ack of a station whose session waits for its PC (``agent_ws`` recorded it)."""
    active = await sessions.active_on_station(db, station_id)
    if active is None or (active := await _still_waiting(db, active)) is None:
        return []
    command = await db.get(AgentCommand, ack.id)
    if command is None or command.type != SessionStart.TYPE or command.session_id != active.id:
        return []  # (a command to the station this sale was moved from finds no session)
    # The PC took its session: the paid time runs from now. If the command reached it late,
    # it holds an end too early: correct it.
    if start_clock(db, active):
        return [SyncResponse(session=session_info(active), server_time=utc_now())]
    return []


async def _tamper(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, tamper: Tamper
) -> list[Payload]:
    station = await stations.get_station(db, station_id, lock=tamper.lock)
    defences.record_tamper(db, station, tamper)
    return []


async def _goodbye(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, goodbye: Goodbye
) -> list[Payload]:
    station = await stations.get_station(db, station_id, lock=True)
    active = await sessions.active_on_station(db, station_id)
    defences.record_goodbye(db, station, goodbye, active.id if active is not None else None)
    return []


async def _command_result(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, result: CommandResult
) -> list[Payload]:
    await commands.record_result(db, station_id, result)
    return []


async def _auth_again(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, _: Auth
) -> list[Payload]:
    return [Error(detail="already authenticated")]


# --- self-service at the PC (issue 12 §1) -------------------------------------------------


async def _login(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, attempt: Login
) -> list[Payload]:
    return [await play.login(db, services.play, station_id, attempt)]


async def _logout(
    services: AgentServices, db: AsyncSession, station_id: uuid.UUID, logout: Logout
) -> list[Payload]:
    result = await play.logout(db, station_id, logout.session_id)
    return [result, await play.station_info(db, services.play.rules, station_id)]


HANDLERS: dict[type[Payload], Handler] = {
    StatusChange: _status_change,
    SyncRequest: _sync,
    Ack: _ack,
    Tamper: _tamper,
    Goodbye: _goodbye,
    Auth: _auth_again,
    CommandResult: _command_result,
    Login: _login,
    Logout: _logout,
}
