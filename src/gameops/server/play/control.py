"""Self-service play's reactions: in the session's transaction, a login is closed when its
session ends any other way (expiry, staff stop) and each charged block is told to the PC;
in the background, blocks are renewed a little before they end."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol import WalletUpdate, utc_now
from gameops.server.control.pc_agent import send_command
from gameops.server.db.engine import Database
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.jobs import Periodic
from gameops.server.play import domain, repository, service
from gameops.server.play.events import BlockCharged
from gameops.server.play.service import PlayRules
from gameops.server.reservations.events import (
    ReservationCancelled,
    ReservationEvent,
    ReservationHeld,
    ReservationMoved,
    ReservationOverridden,
    ReservationReleased,
)
from gameops.server.sessions import events as session_events
from gameops.server.sessions import service as sessions

log = structlog.get_logger(__name__)


class PlayControl:
    def __init__(self, database: Database, rules: PlayRules, poll_seconds: float) -> None:
        self._database = database
        self._rules = rules
        self._periodic = Periodic("play-renewals", poll_seconds, self.renew_due)

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.handle(BlockCharged, self.block_charged)
        # A booking starts or stops holding a PC: its login view hears it at once.
        held_or_not_events = (
            ReservationHeld,
            ReservationCancelled,
            ReservationReleased,
            ReservationOverridden,
        )
        for held_or_not in held_or_not_events:
            dispatcher.handle(held_or_not, self.login_view_changed)
        dispatcher.handle(ReservationMoved, self.booking_moved)
        dispatcher.handle_batch(session_events.SessionExpired, self.expired)
        dispatcher.handle(session_events.SessionEnded, self.ended)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def renew_due(self) -> None:
        """Charge the next block of every login whose block ends within the lead; each in a
        transaction of its own, so one customer's trouble holds up nobody else."""
        until = utc_now() + timedelta(seconds=self._rules.renew_lead_seconds)
        async with self._database.sessionmaker() as db:
            due = await repository.due_for_renewal(db, until)
        for session_id in due:
            try:
                async with self._database.transaction() as db:
                    await service.renew(db, self._rules, session_id)
            except Exception:
                log.exception("play block renewal failed", session_id=str(session_id))

    async def block_charged(self, db: AsyncSession, event: BlockCharged) -> None:
        assert event.station_id is not None
        assert event.session_id is not None
        text = (
            domain.duration_text(event.balance)
            if event.balance_is_time
            else domain.money(event.balance, event.currency)
        )
        update = WalletUpdate(
            session_id=event.session_id,
            balance=event.balance,
            currency=event.currency,
            balance_text=text,
            buys_seconds=event.buys_seconds,
            block_ends_at=event.block_ends_at,
            ticket=event.ticket_id is not None,
        )
        send_command(db, event.station_id, event.session_id, update)

    async def login_view_changed(self, db: AsyncSession, event: ReservationEvent) -> None:
        assert event.station_id is not None
        at = event.held_at if isinstance(event, ReservationHeld) else None
        await self._tell(db, event.station_id, at)

    async def booking_moved(self, db: AsyncSession, event: ReservationMoved) -> None:
        """Both PCs hear it: the one left (no longer held, or held later) and the new one."""
        await self.login_view_changed(db, event)
        if event.from_station_id != event.station_id:
            await self._tell(db, event.from_station_id, None)

    async def _tell(self, db: AsyncSession, station_id: uuid.UUID, at: datetime | None) -> None:
        if not await service.has_login_view(db, station_id):
            return  # a console: staff sell at the desk, nothing to tell
        info = await service.station_info(db, self._rules, station_id, at)
        send_command(db, station_id, None, info)

    async def expired(self, db: AsyncSession, expired: list[session_events.SessionExpired]) -> None:
        """Close the logins of expired sessions: one query for a burst of expiries."""
        ended_at = {event.session_id: event.ended_at for event in expired}
        for play in await repository.open_plays(db, list(ended_at), lock=True):
            session = await sessions.get_session(db, play.session_id)
            await service.close(db, play, session, ended_at[play.session_id], "expired")

    async def ended(self, db: AsyncSession, event: session_events.SessionEnded) -> None:
        """Stopped by staff (a logout closed its login already): refund the block's unused
        share, unless the stop refunded the session already."""
        play = await repository.open_play(db, event.session_id, lock=True)
        if play is None:
            return
        session = await sessions.get_session(db, event.session_id)
        if event.refunded > 0:
            play.block_charge = 0  # refunded by the stop: nothing more to give back
        await service.close(db, play, session, event.ended_at, "stopped")
