"""Consoles: a Shelly plug (power) and/or a MikroTik router (network) enforce the session.

No device is called inside a database transaction. A cash or balance sale switches the
devices on *before* its transaction (``switch_on_for_sale``, called by ``sessions.selling``):
a device that does not answer refuses the sale with 502 naming it, nothing charged; a sale
that then does not commit switches them off again. A card paid later switches them on after
its commit. Each "on" arms the device's own dead-man (the plug's auto-off timer, the
address-list entry's timeout) for the session's end plus a margin. At the end, once the end
has committed, the network is cut at once and the power after a grace period, announced on
the live feed; a device that fails at the end does not stop the session from ending: the
error is recorded and reconciliation retries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.devices.errors import DeviceError
from gameops.protocol import utc_now
from gameops.server.control import repository
from gameops.server.control.devices import DeviceHub, PlugHandle, RouterHandle
from gameops.server.control.health import DeviceHealth
from gameops.server.db.engine import Database, after_commit
from gameops.server.db.models import Station
from gameops.server.errors import BadGateway
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.events.domain import EventType
from gameops.server.events.service import record_event
from gameops.server.sessions import events
from gameops.server.sessions.selling import switched_before
from gameops.server.settings import Settings
from gameops.server.stations import repository as stations_repository
from gameops.server.stations.domain import StationType

log = structlog.get_logger(__name__)
T = TypeVar("T")


class PowerOffTimers:
    """Pending "cut the power" timers, one per station; a new session cancels its timer."""

    def __init__(self) -> None:
        self._handles: dict[uuid.UUID, asyncio.TimerHandle] = {}

    def schedule(self, station_id: uuid.UUID, delay: float, fire: Callable[[], None]) -> None:
        self.cancel(station_id)
        loop = asyncio.get_running_loop()
        self._handles[station_id] = loop.call_later(delay, self._fire, station_id, fire)

    def cancel(self, station_id: uuid.UUID) -> None:
        handle = self._handles.pop(station_id, None)
        if handle is not None:
            handle.cancel()

    def pending(self, station_id: uuid.UUID) -> bool:
        return station_id in self._handles

    def clear(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def _fire(self, station_id: uuid.UUID, fire: Callable[[], None]) -> None:
        self._handles.pop(station_id, None)
        fire()


def seconds_until(end_at: datetime) -> int:
    return max(1, int((end_at - utc_now()).total_seconds()) + 1)


class ConsoleController:
    def __init__(
        self, database: Database, settings: Settings, hub: DeviceHub, health: DeviceHealth
    ) -> None:
        self.hub = hub
        self.health = health
        self.power_off = PowerOffTimers()
        self._database = database
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.handle(events.SessionStarted, self.started)
        dispatcher.handle(events.SessionExtended, self.extended)
        dispatcher.handle(events.SessionEnded, self.ended)
        dispatcher.handle(events.SessionExpired, self.ended)

    async def close(self) -> None:
        self.power_off.clear()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.health.drain()
        await self.hub.close()

    async def switch_on_for_sale(self, station: Station, until: datetime) -> bool:
        """Before a sale's transaction: switch on until ``until`` (raises ``BadGateway``)."""
        if not _has_devices(station):
            return False
        await self._switch_on(station, until)
        return True

    async def switch_off_unless_busy(self, station_id: uuid.UUID) -> None:
        """The sale switched on for did not commit: off again, unless a session runs there
        (another sale won the station meanwhile)."""
        async with self._database.sessionmaker() as db:
            station = await stations_repository.get_live(db, station_id)
            busy = await repository.has_active_session(db, station_id)
        if station is None or busy:
            return
        # Nobody played: no grace before the power goes.
        router, plug = self.hub.router(station), self.hub.plug(station)
        if router is not None:
            await self._best_effort(station, router.label, "block", lambda: self._block(router))
        if plug is not None:
            await self._best_effort(station, plug.label, "power off", plug.driver.turn_off)

    async def started(self, db: AsyncSession, event: events.SessionStarted) -> None:
        station = await _controlled(db, event.station_id)
        if station is not None:
            self.power_off.cancel(station.id)  # a new session within the grace keeps the power
            self._on_after_commit(db, station, event.scheduled_end_at)

    async def extended(self, db: AsyncSession, event: events.SessionExtended) -> None:
        station = await _controlled(db, event.station_id)
        if station is not None:
            self._on_after_commit(db, station, event.scheduled_end_at)  # re-arms the dead-men

    def _on_after_commit(self, db: AsyncSession, station: Station, until: datetime) -> None:
        """Unless the sale switched the devices on before its transaction (cash, balance),
        switch them on once it has committed (a card paid): the money is in, so a device
        that fails is recorded and retried by reconciliation, and the session stands."""
        if station.id in switched_before(db):
            return
        after_commit(db, lambda: self._switch_on_late(station, until))

    async def _switch_on_late(self, station: Station, until: datetime) -> None:
        try:
            await self._switch_on(station, until)
        except BadGateway as err:
            log.warning(
                "console not switched on after its sale", station=station.name, error=str(err)
            )

    async def ended(
        self, db: AsyncSession, event: events.SessionEnded | events.SessionExpired
    ) -> None:
        station = await _controlled(db, event.station_id)
        if station is None:
            return
        plug = self.hub.plug(station)
        if plug is not None:
            self._announce_power_off(db, station.id, event.session_id, plug)
        # The devices are called once the end has committed, never inside the transaction.
        after_commit(db, lambda: self._end(station))

    async def _switch_on(self, station: Station, end_at: datetime) -> None:
        plug, router = self.hub.plug(station), self.hub.router(station)
        left = seconds_until(end_at)
        if plug is not None:
            timer = left + self._settings.plug_timer_margin_seconds
            await self._required(
                station, plug.label, "power on", lambda: plug.driver.turn_on(timer)
            )
        if router is not None:
            try:
                await self._required(
                    station, router.label, "unblock", lambda: self.allow(router, left)
                )
            except BadGateway:
                if plug is not None:  # the sale is refused: do not leave the console powered
                    await self._best_effort(station, plug.label, "power off", plug.driver.turn_off)
                raise

    async def allow(self, router: RouterHandle, seconds: int) -> None:
        """Lets the console out for ``seconds`` plus the margin (its IP from config or DHCP)."""
        address = router.console_ip or await router.driver.lease_address(router.mac)
        if address is None:
            raise DeviceError(f"no DHCP lease for console {router.mac}; set its IP on the station")
        await router.driver.ensure_rule(router.mac)
        timeout = seconds + self._settings.router_timeout_margin_seconds
        await router.driver.allow(router.mac, address, timeout)

    async def _end(self, station: Station) -> None:
        router, plug = self.hub.router(station), self.hub.plug(station)
        if router is not None:
            await self._best_effort(station, router.label, "block", lambda: self._block(router))
        if plug is not None:
            station_id = station.id
            self.power_off.schedule(
                station_id,
                self._settings.console_power_grace_seconds,
                lambda: self._spawn(self._cut_power(station_id)),
            )

    async def _block(self, router: RouterHandle) -> None:
        await router.driver.ensure_rule(router.mac)
        await router.driver.block(router.mac)

    def _announce_power_off(
        self, db: AsyncSession, station_id: uuid.UUID, session_id: uuid.UUID, plug: PlugHandle
    ) -> None:
        grace = self._settings.console_power_grace_seconds
        at = utc_now() + timedelta(seconds=grace)
        data = {"device": plug.label, "grace_seconds": grace, "power_off_at": at.isoformat()}
        # On the live feed, so staff can warn the player before the console goes dark.
        record_event(
            db,
            EventType.CONSOLE_POWER_OFF_SCHEDULED,
            station_id=station_id,
            session_id=session_id,
            data=data,
        )

    async def _cut_power(self, station_id: uuid.UUID) -> None:
        """Grace is over: power off, unless a new session started on the station meanwhile."""
        # Read, switch, then write: no transaction stays open while a device is called.
        async with self._database.sessionmaker() as db:
            station = await stations_repository.get_live(db, station_id)
            busy = await repository.has_active_session(db, station_id)
        plug = self.hub.plug(station) if station is not None and not busy else None
        if station is None or plug is None:
            return
        if await self._best_effort(station, plug.label, "power off", plug.driver.turn_off):
            async with self._database.transaction() as db:
                data = {"device": plug.label}
                record_event(db, EventType.CONSOLE_POWER_OFF, station_id=station_id, data=data)

    async def checked(
        self, station: Station, device: str, operation: str, work: Callable[[], Awaitable[T]]
    ) -> T:
        """One guarded device call whose outcome feeds the station's device health."""
        try:
            result = await self.hub.call(device, work)
        except DeviceError as err:
            self.health.failed(station.id, device, operation, err)
            raise
        self.health.answered(station.id, device)
        return result

    async def _required(
        self, station: Station, device: str, operation: str, work: Callable[[], Awaitable[T]]
    ) -> T:
        """A call the sale depends on: a failure is a 502 naming the device."""
        try:
            return await self.checked(station, device, operation, work)
        except DeviceError as err:
            raise BadGateway(
                f"{device} of station {station.name!r} did not answer ({operation}): {err}",
                device=device,
            ) from err

    async def _best_effort(
        self, station: Station, device: str, operation: str, work: Callable[[], Awaitable[object]]
    ) -> bool:
        """A call that must not block the session's end; reconciliation retries it."""
        try:
            await self.checked(station, device, operation, work)
        except DeviceError:
            return False
        return True

    def _spawn(self, work: Awaitable[None]) -> None:
        async def logged() -> None:
            try:
                await work
            except Exception:
                log.exception("console power-off failed")

        task = asyncio.create_task(logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _has_devices(station: Station) -> bool:
    return station.type is StationType.CONSOLE and bool(station.controller)


async def _controlled(db: AsyncSession, station_id: uuid.UUID) -> Station | None:
    """The station if it is a console with a plug or router to drive, else None."""
    station = await db.get(Station, station_id)
    return station if station is not None and _has_devices(station) else None
