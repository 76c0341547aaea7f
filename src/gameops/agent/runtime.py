"""The service part of the agent: wires the session state machine to the WebSocket link,
the system-control backend, the state file and the user-session part, and carries out
the effects the state machine returns."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from gameops.i18n import words_in
from gameops.protocol import Goodbye, Heartbeat, Payload, StationCommand, StopReason, Tamper

from .backoff import Backoff
from .channel import DesktopChannel, DesktopLink
from .clock import Clock, SystemClock
from .commands import CommandHooks, CommandRunner
from .config import AgentConfig
from .control import SystemControl
from .effects import (
    Effect,
    KeepAwake,
    Lock,
    LogOff,
    Notify,
    Persist,
    PersistTamperLock,
    ReachServer,
    Send,
    Unlock,
)
from .goodbye import logged_on_users, note_path, stop_reason
from .link import AgentLink, LinkHooks, LinkTuning
from .localwire import SECRET_ENV, USABLE_MODES
from .logs import get_logger
from .overlaywatch import OverlayWatch
from .session import LinkState, Phase, SessionMachine, SessionRules
from .specs import LoadMonitor, agent_hello, system_specs
from .statefile import LoadedState, StateFile, state_key
from .supervisor import (
    Exit,
    Launcher,
    Supervisor,
    SupervisorHooks,
    desktop_command,
    launch_subprocess,
)

log = get_logger(__name__)
T = TypeVar("T")
TICK_SECONDS = 1.0


def stopped_view(language: str) -> dict[str, str]:
    """What the overlay shows once the agent has stopped."""
    return {
        "op": "view",
        "mode": "locked",
        "message": words_in(language, only="overlay.")("overlay.agent_stopped"),
    }


@dataclass
class AgentParts:
    """What the runtime is built from; tests and the fleet simulator swap parts."""

    control: SystemControl
    state: StateFile | None
    clock: Clock = field(default_factory=SystemClock)
    overlay_command: list[str] | None = None  # None: derive from config when shown
    specs: dict[str, Any] | None = None  # None: read this PC's specs
    backoff: Backoff | None = None
    tuning: LinkTuning | None = None
    # False for backends that never block (Simulated): calls run inline, no worker threads,
    # which is what lets one process run a thousand simulated agents.
    blocking_control: bool = True
    launcher: Launcher | None = None  # None: a subprocess, or the user's session on Windows


class Agent:
    def __init__(self, config: AgentConfig, parts: AgentParts) -> None:
        self.config = config
        self.parts = parts
        rules = SessionRules(
            warning_seconds=config.session.warning_time,
            grace_seconds=config.session.grace_period,
            logs_off=config.system_logoff,
            language=config.station.language,
        )
        self.machine = SessionMachine(rules)
        self.monitor = LoadMonitor(config.system.monitor_interval)
        hooks = LinkHooks(
            hello=lambda: agent_hello(self._specs()),
            sync_request=self.machine.sync_request,
            heartbeat=self._heartbeat,
            on_message=self._on_message,
        )
        self.link = AgentLink(
            config.ws_url,
            config.backend.token,
            hooks,
            parts.backoff,
            parts.tuning,
            proxy=config.backend.websocket_proxy,
            ca_file=config.backend.ca_file,
        )
        self.desktop: DesktopLink | None = None  # the user-session part (overlay), if shown
        self.channel: DesktopChannel | None = None  # its local channel, when a separate process
        self.supervisor: Supervisor | None = None
        # One worker thread for every control call: Windows ties keep-awake to the thread.
        self._control_thread = ThreadPoolExecutor(1, thread_name_prefix="agent-control")
        self._disk_thread = ThreadPoolExecutor(1, thread_name_prefix="agent-disk")
        self._stop = asyncio.Event()
        self._background: set[asyncio.Future[Any]] = set()
        self._specs_cache = parts.specs
        self._last_idle: float | None = None
        self.watch = OverlayWatch(config.system.overlay_restarts_per_minute)
        self._overlay_failing = False
        self._stop_asked: StopReason | None = None
        self.commands = CommandRunner(  # staff commands (issue 12 §3)
            parts.control,
            CommandHooks(
                self.link.send, self.link.flush, self._control_call, self._lock_screen,
                self._show_message,
            ),
            config.station.language,
        )  # fmt: skip

    # --- lifecycle ------------------------------------------------------------------

    async def run(self) -> int:
        """Run until :meth:`stop`; returns the process exit code."""
        saved = self.parts.state.load() if self.parts.state else LoadedState()
        if saved.problem is not None:
            self.link.send(Tamper(kind="state_file_invalid", detail=saved.problem[:1000]))
        self._report_unclean_stop()
        if self.config.features.show_overlay:
            await self._start_desktop_part()
        now = self.parts.clock.now()
        self._execute(self.machine.start(now, saved.session, saved.tamper_lock))
        self._push_view()
        tasks = [asyncio.create_task(self.link.run()), asyncio.create_task(self._tick())]
        if self.supervisor is not None:
            tasks.append(asyncio.create_task(self.supervisor.run()))
        await self._stop.wait()
        await self._shutdown(tasks)
        return 0

    def stop(self, reason: StopReason | None = None) -> None:
        """Stop cleanly. ``reason``: what the service manager said (``shutdown``); left
        out, it is worked out (:func:`.goodbye.stop_reason`)."""
        self._stop_asked = reason
        self._stop.set()

    def _report_unclean_stop(self) -> None:
        state = self.parts.state
        if state is not None and (unsent := state.take_unsent_stop()) is not None:
            self.link.send(Tamper(kind="service_stopped", detail=unsent))
        previous_start = state.mark_running() if state else None
        if previous_start is not None:
            started = datetime.fromtimestamp(previous_start, UTC).isoformat(timespec="seconds")
            detail = f"the agent started at {started} was killed or lost power"
            self.link.send(Tamper(kind="agent_stopped_uncleanly", detail=detail))

    async def _shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        goodbye = self._goodbye()
        log.warning("agent_stopping", reason=goodbye.reason, by=goodbye.by, users=goodbye.users)
        self.link.send(goodbye)  # the server judges it: a stop in paid time is a tamper
        # Fail closed: a stopped agent enforces nothing, so the station is left locked.
        if (desktop := self._showing_desktop) is not None:
            desktop.push(stopped_view(self.config.station.language))
        if self.config.system_lock:
            self._lock_screen()
        await self.link.flush(2.0)
        if self.channel is not None:  # let the overlay lock before it is ended
            await self.channel.caught_up(2.0)
        if self.link.queued and goodbye.active_session_id and self.parts.state is not None:
            stopped = self.parts.clock.now().wall.isoformat(timespec="seconds")
            detail = f"agent stopped ({goodbye.reason}) at {stopped} in paid time, offline"
            self.parts.state.keep_unsent_stop(detail)
        self.link.stop()
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self.desktop is not None:
            await self.desktop.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *self._background, return_exceptions=True)
        self._control_thread.shutdown(wait=True)
        self._disk_thread.shutdown(wait=True)
        if self.parts.state is not None:
            self.parts.state.mark_stopped()

    async def _start_desktop_part(self) -> None:
        if self.config.overlay_in_process:
            self._start_overlay_thread()
        else:
            await self._start_desktop_process()

    def _goodbye(self) -> Goodbye:
        state = self.parts.state
        reason, by = stop_reason(note_path(state.path) if state else None, self._stop_asked)
        idle = self._showing_idle()
        return Goodbye(
            reason=reason,
            by=by,
            users=logged_on_users(),
            idle_seconds=None if idle is None else round(idle),
            active_session_id=self.machine.session_id,
            detail=f"agent stopped ({reason}) in phase {self.machine.phase.value}",
        )

    def _start_overlay_thread(self) -> None:
        from .desktop import InProcessOverlay  # Tk only when an overlay is shown

        loop = asyncio.get_running_loop()
        overlay = InProcessOverlay(
            self.config.station.name,
            self.config.station.language,
            self.parts.control,
            lambda err: loop.call_soon_threadsafe(self._overlay_failed, err),
            lambda message: loop.call_soon_threadsafe(self._overlay_report, message),
        )

        def seen(command_id: str) -> None:  # a "Got it" click, on the overlay's thread
            loop.call_soon_threadsafe(self.commands.seen, command_id)

        overlay.part.on_seen = seen
        overlay.start()
        self.desktop = overlay

    async def _start_desktop_process(self) -> None:
        self.desktop = self.channel = DesktopChannel(self._overlay_tamper)
        self.channel.on_seen = self.commands.seen
        self.channel.on_request = self.desktop_request
        port = await self.channel.start()
        command = self.parts.overlay_command or desktop_command(
            port, self.config.station.name, self.config.system.control, self.config.station.language
        )
        self.supervisor = Supervisor(
            command,
            {SECRET_ENV: self.channel.secret},
            SupervisorHooks(self._overlay_ended, self._overlay_launch_failed),
            self.parts.launcher or default_launcher(self.config),
            liveness=self.channel,
        )

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            next_tick += TICK_SECONDS
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            now = self.parts.clock.now()
            self._execute(self.machine.tick(now, self._link_state()))
            self._watch_overlay(now.steady)
            self._push_view()

    # --- inputs ---------------------------------------------------------------------

    def _on_message(self, message_id: UUID, payload: Payload) -> None:
        log.debug("agent_message", type=payload.TYPE, id=str(message_id))
        if self.commands.handle(payload):
            return
        self._execute(self.machine.handle(message_id, payload, self.parts.clock.now()))
        self._push_view()

    # --- self-service: what the customer asks for on the overlay -------------------

    def desktop_request(self, request: dict[str, Any]) -> None:
        """``{"op": "login", ...}`` or ``{"op": "logout"}`` from the overlay. Credentials
        only pass through: never logged, queued offline or written to disk."""
        now, online = self.parts.clock.now(), self.link.connected
        if request.get("op") == "login":
            keys = ("username", "secret", "ticket", "package")
            fields = {key: str(request.get(key) or "") for key in keys}
            self._execute(self.machine.login(now, online, **fields))
        elif request.get("op") == "logout":
            self._execute(self.machine.logout(now, online))
        self._push_view()

    def _overlay_report(self, message: dict[str, Any]) -> None:
        """What the in-process overlay reports: tampering it saw, or the customer's login."""
        if message.get("op") == "tamper":
            kind, detail = str(message.get("kind")), str(message.get("detail", ""))
            self._overlay_tamper(kind, detail, int(message.get("count", 1)))
        elif message.get("op") in ("login", "logout"):
            self.desktop_request(message)

    def _overlay_ended(self, end: Exit) -> None:
        now = self.parts.clock.now()
        in_session = self.machine.phase is Phase.ACTIVE
        verdict = self.watch.ended(end, now.steady, in_session)
        if verdict.report is not None:
            self.link.send(verdict.report)
        if verdict.lock_reason is not None:
            log.error("agent_tamper_lock", reason=verdict.lock_reason)
            self._execute(self.machine.engage_tamper_lock(verdict.lock_reason, now))
            self._push_view()
        self._watch_overlay(now.steady)

    def _overlay_launch_failed(self, err: Exception, failures: int) -> None:
        report = self.watch.launch_failed(err, self.parts.clock.now().steady)
        if report is not None:
            self.link.send(report)
        self._watch_overlay(self.parts.clock.now().steady)

    def _watch_overlay(self, now: float) -> None:
        """Bursts of failures reported on time; the system lock while no overlay can show."""
        if (report := self.watch.flush(now)) is not None:
            self.link.send(report)
        failing = self.supervisor is not None and self.supervisor.failing
        if failing and not self._overlay_failing:
            log.error("overlay_unavailable", fallback="system lock")
            mode = self.machine.view(self.parts.clock.now()).mode
            if self.config.system_lock and mode not in USABLE_MODES:
                self._in_thread(self._control_thread, self.parts.control.lock_screen)
        elif self._overlay_failing and not failing and (report := self.watch.recovered(now)):
            self.link.send(report)
        self._overlay_failing = failing

    def _overlay_tamper(self, kind: str, detail: str, count: int) -> None:
        """The overlay saw tampering itself (Windows removed its keyboard hook, say)."""
        log.error("overlay_reported_tamper", kind=kind, detail=detail, count=count)
        self.link.send(Tamper(kind=kind, detail=detail, count=count))

    def _overlay_failed(self, err: Exception) -> None:
        fallback = "system lock" if self.config.system_lock else "none: features.auto_lock is off"
        log.error("overlay_failed", error=repr(err), fallback=fallback)
        detail = f"the overlay could not run in the agent's process: {err!r}"
        self.link.send(Tamper(kind="overlay_failed", detail=detail[:1000]))

    # --- outputs --------------------------------------------------------------------

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            self._execute_one(effect)

    def _execute_one(self, effect: Effect) -> None:
        config, control = self.config, self.parts.control
        match effect:
            case Send(payload=payload, queue_offline=queue_offline):
                self.link.send(payload, queue_offline=queue_offline)
            case Lock(reason=reason):
                log.info("agent_lock", reason=reason, system_lock=config.system_lock)
                if config.system_lock:
                    self._lock_screen()
            case LogOff():
                log.info("agent_log_off", enabled=config.system_logoff)
                if config.system_logoff:
                    self.watch.logged_off(self.parts.clock.now().steady)
                    self._in_thread(self._control_thread, control.log_off)
            case KeepAwake(enabled=enabled):
                self._in_thread(self._control_thread, control.keep_awake, enabled)
            case Notify(text=text):
                log.info("agent_notify", text=text)
                if self._showing_desktop is None:  # else the overlay shows it
                    self._in_thread(self._control_thread, control.notify, "GameOps", text)
            case Persist(saved=saved) if self.parts.state is not None:
                self._in_thread(self._disk_thread, self.parts.state.save, saved)
            case PersistTamperLock(lock=lock) if self.parts.state is not None:
                self._in_thread(self._disk_thread, self.parts.state.save_tamper_lock, lock)
            case ReachServer():
                self.link.retry_now()
            case Unlock() | Persist() | PersistTamperLock():
                pass  # nothing to undo system-side: the overlay follows the view

    @property
    def _showing_desktop(self) -> DesktopLink | None:
        """The user-session part, if it can show views and lock now."""
        if self.supervisor is not None and self.supervisor.failing:
            return None  # it cannot be started: the system backend locks instead
        return self.desktop if self.desktop is not None and self.desktop.showing else None

    def _lock_screen(self) -> None:
        if (desktop := self._showing_desktop) is not None:
            # Locking works only inside the user's desktop session: the overlay does it.
            desktop.push({"op": "lock"})
        else:
            self._in_thread(self._control_thread, self.parts.control.lock_screen)

    def _push_view(self) -> None:
        if (desktop := self._showing_desktop) is None:
            return
        view = self.machine.view(self.parts.clock.now())
        message: dict[str, Any] = {
            "op": "view",
            "mode": view.mode,
            "remaining": view.remaining_seconds,
            "band": view.band,
            "message": view.message,
        }
        if view.login is not None:
            login = view.login
            message["login"] = {
                **asdict(login),
                "prices": list(login.prices),
                "packages": [list(offer) for offer in login.packages],
            }
            message["login"]["online"] = self.link.connected
        if view.wallet:
            message |= {"wallet": view.wallet, "logout": view.logout}
        if view.offer:
            message["offer"] = view.offer
        desktop.push(message)

    async def _control_call(self, func: Callable[..., T], *args: Any) -> T:
        """A control call whose answer is wanted, on the control thread."""
        if not self.parts.blocking_control:
            return func(*args)
        return await asyncio.get_running_loop().run_in_executor(self._control_thread, func, *args)

    def _show_message(self, command: StationCommand) -> bool:
        if (desktop := self._showing_desktop) is None:
            return False
        message = {"op": "message", "id": str(command.id), "text": command.text}
        desktop.push({**message, "by": command.by})
        return True

    def _in_thread(self, pool: ThreadPoolExecutor, func: Callable[..., T], *args: Any) -> None:
        if not self.parts.blocking_control:
            func(*args)
            return
        future = asyncio.get_running_loop().run_in_executor(pool, func, *args)
        self._background.add(future)
        future.add_done_callback(self._background.discard)
        future.add_done_callback(_log_failure)

    def _heartbeat(self) -> Heartbeat:
        now = self.parts.clock.now()
        cpu, ram = self.monitor.sample(now.steady)
        return Heartbeat(
            cpu=cpu,
            ram=ram,
            active_session_id=self.machine.session_id,
            remaining_seconds=self.machine.remaining_seconds(now),
            idle_seconds=self._idle_seconds(),
            tamper_locked=self.machine.tamper_lock.reason is not None,
        )

    def _link_state(self) -> LinkState:
        if self.link.connected:
            return "online"
        return "connecting" if self.link.connecting else "offline"

    def _showing_idle(self) -> float | None:
        return self.desktop.idle_seconds if self.desktop is not None else self._last_idle

    def _idle_seconds(self) -> int | None:
        """Known in the user's session: from the overlay when shown, else read here (for the
        next heartbeat: the read may block, so it runs on the control thread)."""
        if self.desktop is not None:
            idle = self.desktop.idle_seconds
        else:
            idle = self._last_idle
            self._in_thread(self._control_thread, self._read_idle)
        return None if idle is None else round(idle)

    def _read_idle(self) -> None:
        self._last_idle = self.parts.control.idle_seconds()

    def _specs(self) -> dict[str, Any]:
        if self._specs_cache is None:
            self._specs_cache = system_specs()
        return self._specs_cache


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("agent_background_call_failed", error=repr(future.exception()))


def default_launcher(config: AgentConfig) -> Launcher:
    """From a Windows service, start the overlay in the user's session; else a subprocess."""
    if config.system.service and os.name == "nt":
        from .control.usersession import CtypesSessionApi, UserSessionLauncher

        return UserSessionLauncher(CtypesSessionApi())
    return launch_subprocess


def state_file_for(config: AgentConfig, config_path: Path) -> StateFile:
    return StateFile(config.state_path(config_path), state_key(config.backend.token))
