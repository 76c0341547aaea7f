"""Bringing console devices back in line with the sessions, and reading the plugs' power.

At start-up and every ``device_reconcile_seconds``: a plug that is on with no session (its
button was pressed) is switched off, one that is off during a session is switched on; a
router that lost our rules or allow entries (rebooted, reset) gets them back. Every fix is a
DEVICE_RECONCILED event. Every ``power_sample_seconds`` each plug's reading is stored.
Stations are handled concurrently, so a slow device delays no other station.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import structlog

from gameops.devices.errors import DeviceError
from gameops.protocol import utc_now
from gameops.server.control import repository
from gameops.server.control.consoles import ConsoleController, seconds_until
from gameops.server.db.engine import Database
from gameops.server.db.models import GameSession, PowerSample, Station
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.jobs import Periodic
from gameops.server.settings import Settings
from gameops.server.stations import repository as stations_repository

log = structlog.get_logger(__name__)


class PlugAction(StrEnum):
    ON = "power on"
    OFF = "power off"


def plug_action(relay_on: bool, in_session: bool, powering_off: bool) -> PlugAction | None:
    """What a plug needs. During the grace after a session the power stays on on purpose."""
    if in_session and not relay_on:
        return PlugAction.ON
    if not in_session and relay_on and not powering_off:
        return PlugAction.OFF
    return None


@dataclass(frozen=True)
class RouterFix:
    add_rule: bool
    allow: bool
    block: bool


def router_fix(has_rule: bool, allowed: bool, in_session: bool) -> RouterFix:
    return RouterFix(
        add_rule=not has_rule, allow=in_session and not allowed, block=allowed and not in_session
    )


class ConsoleWatch:
    def __init__(self, database: Database, settings: Settings, consoles: ConsoleController) -> None:
        self._database = database
        self._settings = settings
        self._consoles = consoles
        self._reconciler = Periodic(
            "console-reconcile", settings.device_reconcile_seconds, self.reconcile
        )
        self._sampler = Periodic("console-power", settings.power_sample_seconds, self.sample_power)
        self._first: asyncio.Task[None] | None = None
        # One pass at a time: two overlapping passes would both "fix" the same device.
        self._pass = asyncio.Lock()

    def start(self) -> None:
        # In the background: a device that hangs must not hold up the server's start.
        self._first = asyncio.create_task(self.reconcile(), name="console-reconcile-first")
        self._reconciler.start()
        self._sampler.start()

    async def stop(self) -> None:
        await self._reconciler.stop()
        await self._sampler.stop()
        if self._first is not None:
            self._first.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._first

    async def reconcile(self) -> None:
        async with self._pass:
            stations, sessions = await self._load()
            await asyncio.gather(*(self._reconcile_one(s, sessions.get(s.id)) for s in stations))

    async def sample_power(self) -> None:
        stations, _ = await self._load()
        await asyncio.gather(*(self._sample(s) for s in stations))
        cutoff = utc_now() - timedelta(days=self._settings.power_retention_days)
        async with self._database.transaction() as db:
            await repository.drop_samples_before(db, cutoff)

    async def _load(self) -> tuple[list[Station], dict[uuid.UUID, GameSession]]:
        async with self._database.sessionmaker() as db:
            stations = list(await repository.controlled_consoles(db))
            sessions = await repository.active_sessions(db, [s.id for s in stations])
        return stations, sessions

    async def _reconcile_one(self, station: Station, session: GameSession | None) -> None:
        try:
            await self._reconcile_plug(station, session)
            await self._reconcile_router(station, session)
        except DeviceError:
            pass  # recorded as DEVICE_ERROR by the call; the next tick tries again
        except Exception:
            log.exception("reconciling a console failed", station_id=str(station.id))

    async def _reconcile_plug(self, station: Station, session: GameSession | None) -> None:
        plug = self._consoles.hub.plug(station)
        if plug is None:
            return
        status = await self._consoles.checked(station, plug.label, "status", plug.driver.status)
        pending = self._consoles.power_off.pending(station.id)
        action = plug_action(status.on, session is not None, pending)
        if action is PlugAction.ON and session is not None:
            timer = (
                seconds_until(session.scheduled_end_at) + self._settings.plug_timer_margin_seconds
            )
            await self._consoles.checked(
                station, plug.label, action, lambda: plug.driver.turn_on(timer)
            )
            await self._note(station, plug.label, action, "relay was off during a session")
        elif action is PlugAction.OFF:
            await self._consoles.checked(station, plug.label, action, plug.driver.turn_off)
            await self._note(station, plug.label, action, "relay was on with no session")

    async def _reconcile_router(self, station: Station, session: GameSession | None) -> None:
        router = self._consoles.hub.router(station)
        if router is None:
            return
        check = self._consoles.checked
        rules = await check(station, router.label, "read rules", router.driver.rules)
        entries = await check(station, router.label, "read address list", router.driver.allowed)
        fix = router_fix(
            router.mac in rules, any(e.mac == router.mac for e in entries), session is not None
        )
        if fix.add_rule:
            await check(
                station, router.label, "add rule", lambda: router.driver.ensure_rule(router.mac)
            )
            await self._note(station, router.label, "rule restored", "drop rule was missing")
        if fix.allow and session is not None:
            left = seconds_until(session.scheduled_end_at)
            await check(
                station, router.label, "unblock", lambda: self._consoles.allow(router, left)
            )
            await self._note(station, router.label, "unblock", "allow entry was missing")
        if fix.block:
            await check(station, router.label, "block", lambda: router.driver.block(router.mac))
            await self._note(station, router.label, "block", "allowed with no session")

    async def _sample(self, station: Station) -> None:
        plug = self._consoles.hub.plug(station)
        if plug is None:
            return
        try:
            status = await self._consoles.checked(station, plug.label, "status", plug.driver.status)
        except DeviceError:
            return
        now = utc_now()
        async with self._database.transaction() as db:
            db.add(
                PowerSample(
                    station_id=station.id, sampled_at=now, watts=status.watts, relay_on=status.on
                )
            )
            live = await stations_repository.get_live(db, station.id)
            if live is not None:
                live.power_watts, live.relay_on, live.power_at = status.watts, status.on, now

    async def _note(self, station: Station, device: str, action: str, reason: str) -> None:
        log.info("console reconciled", station=station.name, device=device, action=action)
        async with self._database.transaction() as db:
            data = {"device": device, "action": str(action), "reason": reason}
            record_event(db, EventType.DEVICE_RECONCILED, station_id=station.id, data=data)
