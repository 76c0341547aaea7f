"""The agent's session logic as a pure state machine: messages and clock ticks in, effects out.

No I/O here. Time left is kept as a deadline on the steady clock, computed once from the
server's ``scheduled_end_at`` and ``server_time``; the PC's wall clock is only used to talk
to the server and to resume after a reboot, so changing it gives no free time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal
from uuid import UUID

from gameops.i18n import DEFAULT, Words, words_in
from gameops.protocol import (
    ACKED_COMMANDS,
    Ack,
    HeartbeatAck,
    Login,
    LoginResult,
    Logout,
    NoSession,
    Payload,
    ServerHello,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionInfo,
    SessionStart,
    StationInfo,
    SyncRequest,
    SyncResponse,
    Tamper,
    TamperClear,
    TamperLock,
    WalletUpdate,
)

from .clock import Instant
from .effects import (
    Effect,
    KeepAwake,
    Lock,
    LockReason,
    LoginView,
    LogOff,
    Notify,
    Persist,
    PersistTamperLock,
    ReachServer,
    SavedSession,
    SavedTamperLock,
    Send,
    Unlock,
    View,
)
from .guard import CLOCK_JUMP_TOLERANCE_SECONDS, TamperLockState, measure_downtime

LAST_WARNING_SECONDS = 60
MESSAGE_SHOWN_SECONDS = 10.0
# Paid time ran out while the server was unreachable: it may know of an extension.
LOGOFF_HOLD_SECONDS = 20.0  # the longest a log-off waits for a reconnect in flight
RETRY_SECONDS = 2.0  # how often the server is retried meanwhile (not the link's backoff)
SAME_END_SECONDS = 5.0  # a later end than this is time added, not a correction
# The server's answers to a sync: once one arrives, the session is what it says.
SERVER_ANSWERS = (SyncResponse, SessionExpired, SessionEnd, NoSession, SessionExtended)
TAMPER_LOCK_MESSAGE = words_in(DEFAULT, only="overlay.")("overlay.tamper_locked")  # English
OFFLINE_LOGIN = "A new login needs the server. Please wait, or see the front desk."
OFFLINE_LOGOUT = "Logging out needs the server; your time keeps running. Try again soon."


_Handler = Callable[[Payload, Instant], list[Effect]]
LinkState = Literal["online", "connecting", "offline"]


class Phase(Enum):
    LOCKED = "locked"  # no session: the station stays locked
    ACTIVE = "active"  # paid time running
    # Paid time is over: the grace period to save work, the desktop still usable under a
    # banner counting down; then lock and log off.
    ENDING = "ending"


@dataclass(frozen=True)
class SessionRules:
    warning_seconds: int = 300
    last_warning_seconds: int = LAST_WARNING_SECONDS
    grace_seconds: int = 60
    checkpoint_seconds: float = 5.0  # how often a running session is saved to disk
    logs_off: bool = True  # only changes what the grace banner says; the runtime skips log-off
    language: str = DEFAULT  # what the customer reads (a gameops.i18n catalogue)


class SessionMachine:
    """Tracks the current session. Every public method returns the effects to carry out."""

    def __init__(self, rules: SessionRules) -> None:
        self.rules = rules
        self._words = words_in(rules.language, only="overlay.")
        self.phase = Phase.LOCKED
        self.session_id: UUID | None = None
        self.scheduled_end_at: datetime | None = None
        self.skew_seconds = 0.0
        self._deadline = 0.0  # steady clock: end of paid time
        self._logoff_at = 0.0  # steady clock: end of the grace period
        self._warned: set[int] = set()
        self._last: Instant | None = None
        self._last_checkpoint = 0.0
        self._message = ""
        self._message_until = 0.0
        self._ended_session_id: UUID | None = None
        self.tamper_lock = TamperLockState()  # locked after tampering until staff clear it
        self._awaiting_server = False  # expired offline; a sync answer is wanted first
        self._logoff_held = False  # the grace is over, locked; the log-off awaits the server
        self._retried_at = 0.0
        # Self-service: what the login view shows, and what the balance buys past the
        # current block (the server's last word on it, for this session only).
        self.station_info: StationInfo | None = None
        self.wallet: WalletUpdate | None = None
        self._login_message = ""
        self._login_wait_until = 0.0  # steady clock: throttled until then

    # --- inputs ---------------------------------------------------------------------

    def start(
        self, now: Instant, saved: SavedSession | None, tamper: SavedTamperLock | None = None
    ) -> list[Effect]:
        """First call: resume a saved session (and tamper lock), or lock the station."""
        self._last = now
        effects: list[Effect] = []
        if tamper is not None:
            self.tamper_lock.resume(tamper, now)
            self._show(now, self._words("overlay.tamper_locked"))
            effects = [Lock("tamper"), KeepAwake(False)]
        if saved is None:
            return [Lock("no_session"), KeepAwake(False), *effects]
        return [*self._resume(now, saved), *effects]

    def handle(self, message_id: UUID, payload: Payload, now: Instant) -> list[Effect]:
        """React to one message from the server; commands are acknowledged first."""
        effects: list[Effect] = []
        if payload.TYPE in ACKED_COMMANDS:
            effects.append(Send(Ack(id=message_id)))
        server_time = getattr(payload, "server_time", None)
        if isinstance(server_time, datetime):
            self.skew_seconds = (server_time - now.wall).total_seconds()
        if isinstance(payload, SERVER_ANSWERS):
            self._awaiting_server = False
        handler = self._handlers().get(type(payload))
        if handler is not None:
            effects += handler(payload, now)
        return effects

    def tick(self, now: Instant, link: LinkState = "online") -> list[Effect]:
        """Advance time: detect clock changes, warn, expire, log off, checkpoint.
        ``link``: the server connection now; an expiry while it is down waits for it."""
        effects = self._check_wall_clock(now)
        self._last = now
        if self.tamper_lock.logoff_due(now):
            effects += [LogOff(), PersistTamperLock(self.tamper_lock.saved)]
        if self.phase is Phase.ACTIVE:
            effects += self._tick_active(now, link)
        elif self.phase is Phase.ENDING:
            effects += self._tick_ending(now, link)
        return effects

    # --- outputs --------------------------------------------------------------------

    def remaining_seconds(self, now: Instant) -> int | None:
        if self.phase is not Phase.ACTIVE:
            return None
        return max(0, math.ceil(self._deadline - now.steady))

    def view(self, now: Instant) -> View:
        message = self._message if now.steady < self._message_until else ""
        if self.tamper_lock.reason is not None:
            return View("locked", None, self._words("overlay.tamper_locked"))
        if self.phase is Phase.ENDING and self._logoff_held:
            return View("locked", None, self._words("overlay.checking"))
        if self.phase is Phase.ACTIVE:
            wallet = self._wallet()
            if wallet is None:
                return View("session", self.remaining_seconds(now), message)
            total = max(0, math.ceil(self._total_left(now)))
            return View("session", total, message, wallet=wallet.balance_text, logout=True)
        if self.phase is Phase.ENDING:
            left = max(0, math.ceil(self._logoff_at - now.steady))
            then = self._words(
                "overlay.then_logoff" if self.rules.logs_off else "overlay.then_lock"
            )
            text = self._words("overlay.grace", then=then, clock=_clock_face(left))
            return View("grace", left, text, offer=self._offer())
        login = self._login_view(now)
        idle = "Log in below, or see the front desk." if login else self._words("overlay.see_desk")
        return View("locked", None, message or idle, login)

    # --- self-service ---------------------------------------------------------------

    def _offer(self) -> str:
        """How to play on, for the grace banner: log in at this PC (from the balance, with a
        package, with a guest ticket) where the server offers self-service; the desk for
        what only the desk sells (a top-up or a ticket once the balance or ticket is spent),
        or where there is no login view."""
        info, wallet = self.station_info, self._wallet()
        if info is None or not info.self_service:
            return self._words("overlay.offer_desk")
        if wallet is not None and wallet.balance <= 0:
            return self._words("overlay.offer_top_up")
        return self._words("overlay.offer_packages" if info.packages else "overlay.offer_login")

    def login(
        self,
        now: Instant,
        online: bool,
        username: str = "",
        secret: str = "",
        ticket: str = "",
        package: str = "",
    ) -> list[Effect]:
        """The customer asks to log in. The credentials go to the server at once or not at
        all: never queued, kept, or written anywhere."""
        if self.phase is not Phase.LOCKED or self.tamper_lock.reason is not None:
            return []
        if not online:
            self._login_message = OFFLINE_LOGIN
            return []
        if now.steady < self._login_wait_until:
            return []
        if ticket.strip():
            request = Login(ticket=ticket.strip()[:64])
        elif username.strip() and secret:
            offered = (
                {offer.name for offer in self.station_info.packages} if self.station_info else set()
            )
            request = Login(
                username=username.strip()[:64],
                secret=secret[:128],
                package=package if package in offered else None,
            )
        else:
            self._login_message = "Enter your username and PIN, or a guest ticket code."
            return []
        self._login_message = "Checking..."
        return [Send(request, queue_offline=False)]

    def logout(self, now: Instant, online: bool) -> list[Effect]:
        if self.phase is not Phase.ACTIVE or self._wallet() is None or self.session_id is None:
            return []
        if not online:
            self._show(now, OFFLINE_LOGOUT)
            return []
        return [Send(Logout(session_id=self.session_id), queue_offline=False)]

    def _on_login_result(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, LoginResult)
        self._login_message = payload.message
        wait = payload.retry_after_seconds
        self._login_wait_until = now.steady + wait if wait else 0.0
        return []

    def _on_station_info(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, StationInfo)
        self.station_info = payload
        return []

    def _on_wallet(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, WalletUpdate)
        self.wallet = payload
        return []

    def _wallet(self) -> WalletUpdate | None:
        wallet = self.wallet
        return wallet if wallet is not None and wallet.session_id == self.session_id else None

    def _total_left(self, now: Instant) -> float:
        """Paid time left: the current block, and what the balance buys after it."""
        wallet = self._wallet()
        return self._deadline - now.steady + (wallet.buys_seconds if wallet else 0)

    def _login_view(self, now: Instant) -> LoginView | None:
        info = self.station_info
        if info is None or self.tamper_lock.reason is not None or self.phase is not Phase.LOCKED:
            return None  # no login before the server said where this is (or while tampered)
        wait = max(0, math.ceil(self._login_wait_until - now.steady))
        return LoginView(
            station=info.station_name,
            venue=info.venue_name,
            prices=tuple(info.lines),
            packages=tuple((offer.name, offer.text) for offer in info.packages),
            message=self._login_message,
            wait_seconds=wait,
            reserved=info.reserved.text if info.reserved is not None else "",
        )

    def sync_request(self) -> SyncRequest:
        return SyncRequest(
            last_known_session_id=self.session_id, tamper_locked=self.tamper_lock.reason is not None
        )

    # --- tamper lock ----------------------------------------------------------------

    def engage_tamper_lock(self, reason: str, now: Instant) -> list[Effect]:
        """Fail closed: lock now, log off after the grace, until staff clear it."""
        if not self.tamper_lock.engage(reason, now, self.rules.grace_seconds):
            return []
        self._show(now, self._words("overlay.tamper_locked"))
        return [
            Lock("tamper"),
            KeepAwake(False),
            Notify(self._words("overlay.tamper_notify"), "warning"),
            PersistTamperLock(self.tamper_lock.saved),
        ]

    def _on_tamper_lock(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, TamperLock)
        return self.engage_tamper_lock(payload.reason, now)

    def _on_tamper_clear(self, payload: Payload, now: Instant) -> list[Effect]:
        if not self.tamper_lock.clear():
            return []
        effects: list[Effect] = [PersistTamperLock(None)]
        grace = self.phase is Phase.ENDING and not self._logoff_held  # usable, to save work
        if self.phase is Phase.ACTIVE or grace:
            self._show(now, self._words("overlay.unlocked"))
            effects += [Unlock(), Notify(self._words("overlay.unlocked"))]
        if self.phase is Phase.ACTIVE:
            effects.append(KeepAwake(True))
        return effects

    # --- message handlers -----------------------------------------------------------

    def _handlers(self) -> dict[type[Payload], _Handler]:
        return {
            SessionStart: self._on_start,
            SessionExtended: self._on_extended,
            SessionEnd: self._on_end,
            SessionExpired: self._on_expired,
            SyncResponse: self._on_sync,
            NoSession: self._on_no_session,
            TamperLock: self._on_tamper_lock,
            TamperClear: self._on_tamper_clear,
            LoginResult: self._on_login_result,
            StationInfo: self._on_station_info,
            WalletUpdate: self._on_wallet,
            ServerHello: _ignore,
            HeartbeatAck: _ignore,
        }

    def _on_start(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionStart)
        return self._begin(
            payload.id, payload.scheduled_end_at, now, self._words("overlay.started")
        )

    def _on_sync(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SyncResponse)
        session = payload.session
        if self._seconds_until(session.scheduled_end_at, now) > 0:
            return self._begin(session.id, session.scheduled_end_at, now, self._sync_text(session))
        if self.phase is Phase.ACTIVE and self.session_id == session.id:
            return self._enter_ending(now, self.rules.grace_seconds)
        return []

    def _on_extended(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionExtended)
        if payload.id != self.session_id:
            return [Send(self.sync_request())]
        return self._begin(payload.id, payload.new_end_time, now, self._words("overlay.time_added"))

    def _on_end(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionEnd)
        if self.session_id not in (None, payload.id):
            return [Send(self.sync_request())]
        self._show(now, self._words("overlay.stopped"))
        return self._enter_locked(payload.id, "stopped")

    def _on_expired(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionExpired)
        if self.phase is Phase.ENDING and self.session_id == payload.id:
            return []  # already enforcing; a second notice must not lengthen the grace
        if self.session_id not in (None, payload.id):
            return [Send(self.sync_request())]
        if self.phase is Phase.LOCKED and self._ended_session_id == payload.id:
            return []
        if self.session_id is None:
            # The state file was lost while offline, say. The station shows the lock view,
            # so nobody has work open on it: no grace to give, enforce now.
            self.session_id = payload.id
            return self._finish_grace(now)
        return self._enter_ending(now, payload.grace_seconds)

    def _on_no_session(self, payload: Payload, now: Instant) -> list[Effect]:
        if self.phase is not Phase.ACTIVE:
            return []  # an ENDING session still owes its log-off
        return self._enter_locked(self.session_id, "no_session")

    # --- transitions ----------------------------------------------------------------

    def _begin(self, session_id: UUID, end_at: datetime, now: Instant, text: str) -> list[Effect]:
        was_active = self.phase is Phase.ACTIVE
        self.phase, self.session_id, self.scheduled_end_at = Phase.ACTIVE, session_id, end_at
        self._login_message, self._login_wait_until = "", 0.0
        self._logoff_held = False
        self._deadline = now.steady + self._seconds_until(end_at, now)
        self._warned = self._warnings_already_past(now)
        if text:
            self._show(now, text)
        unlocks = not was_active and self.tamper_lock.reason is None  # a tamper lock holds
        effects: list[Effect] = [Unlock(), KeepAwake(True)] if unlocks else []
        if text:
            effects.append(Notify(text))
        return [*effects, self._checkpoint(now)]

    def _enter_ending(self, now: Instant, grace_seconds: float) -> list[Effect]:
        """The grace period: the desktop stays usable (the overlay shows a banner, not the
        lock view) so the customer can save; the lock and the log-off come at its end."""
        if grace_seconds <= 0:
            return self._finish_grace(now)
        self.phase = Phase.ENDING
        self._logoff_at = now.steady + grace_seconds
        return [Notify(self._words("overlay.ended_save"), "warning"), self._checkpoint(now)]

    def _enter_locked(self, ended_id: UUID | None, reason: LockReason) -> list[Effect]:
        self.phase, self._ended_session_id = Phase.LOCKED, ended_id
        self.session_id = self.scheduled_end_at = None
        return [Lock(reason), KeepAwake(False), Persist(None)]

    def _finish_grace(self, now: Instant) -> list[Effect]:
        self._show(now, self._words("overlay.ended_desk"))
        # The lock first: it holds even where the log-off fails or is turned off.
        return [*self._enter_locked(self.session_id, "expired"), LogOff()]

    def _resume(self, now: Instant, saved: SavedSession) -> list[Effect]:
        """Resume from the state file, never with more time than was saved."""
        self.skew_seconds = saved.skew_seconds
        down = measure_downtime(now, saved)
        self.skew_seconds -= down.clock_jump  # the server's clock, seen through a turned one
        effects: list[Effect] = [Send(down.report)] if down.report else []
        if down.seconds is None:
            # The time down is unknown: grant nothing on the PC's word; stay locked until
            # the server says what is left.
            return [*effects, Lock("no_session"), KeepAwake(False)]
        if saved.phase == "ending":
            self.session_id, self.scheduled_end_at = saved.session_id, saved.scheduled_end_at
            grace_left = max(0.0, (saved.logoff_in_seconds or 0) - down.seconds)
            return [*effects, *self._enter_ending(now, grace_left)]
        by_clock = self._seconds_until(saved.scheduled_end_at, now)
        remaining = min(saved.remaining_seconds - down.seconds, by_clock)
        if remaining <= 0:
            self.session_id, self.scheduled_end_at = saved.session_id, saved.scheduled_end_at
            return [*effects, *self._enter_ending(now, self.rules.grace_seconds)]
        capped_end = self._server_now(now) + timedelta(seconds=remaining)
        return [
            *effects,
            *self._begin(saved.session_id, capped_end, now, self._words("overlay.resumed")),
        ]

    # --- ticking --------------------------------------------------------------------

    def _sync_text(self, session: SessionInfo) -> str:
        """What a sync that finds paid time says: extended while we were offline, or back."""
        same = self.session_id == session.id
        if same and self.scheduled_end_at is not None:
            added = (session.scheduled_end_at - self.scheduled_end_at).total_seconds()
            if added > SAME_END_SECONDS:
                return self._words("overlay.time_added")
        return "" if same and self.phase is Phase.ACTIVE else self._words("overlay.resumed")

    def _tick_active(self, now: Instant, link: LinkState) -> list[Effect]:
        if self._deadline - now.steady <= 0:
            return self._expire_locally(now, link)
        left = self._total_left(now)
        effects: list[Effect] = []
        for threshold in self._thresholds():
            if left <= threshold and threshold not in self._warned:
                self._warned.add(threshold)
                text = self._words("overlay.warning", left=self._minutes(threshold))
                self._show(now, text)
                effects.append(Notify(text, "warning"))
        if now.steady - self._last_checkpoint >= self.rules.checkpoint_seconds:
            effects.append(self._checkpoint(now))
        return effects

    def _expire_locally(self, now: Instant, link: LinkState) -> list[Effect]:
        effects = self._enter_ending(now, self.rules.grace_seconds)
        if link != "online":
            # The customer may have paid more while we were cut off: ask before acting.
            self._awaiting_server, self._retried_at = True, now.steady
            effects.append(ReachServer())
        return effects

    def _tick_ending(self, now: Instant, link: LinkState) -> list[Effect]:
        effects: list[Effect] = []
        retry_due = now.steady - self._retried_at >= RETRY_SECONDS
        if self._awaiting_server and link == "offline" and retry_due:
            self._retried_at = now.steady
            effects.append(ReachServer())
        if now.steady < self._logoff_at:
            return effects
        held = self._awaiting_server and link != "offline"
        if held and now.steady < self._logoff_at + LOGOFF_HOLD_SECONDS:
            # A reconnect is in flight: the log-off waits for its answer; the lock does not.
            if not self._logoff_held:
                self._logoff_held = True
                effects.append(Lock("expired"))
            return effects
        self._logoff_held = False
        return effects + self._finish_grace(now)

    def _check_wall_clock(self, now: Instant) -> list[Effect]:
        if self._last is None:
            return []
        steady_moved = now.steady - self._last.steady
        wall_moved = (now.wall - self._last.wall).total_seconds()
        jump = wall_moved - steady_moved
        if abs(jump) <= CLOCK_JUMP_TOLERANCE_SECONDS:
            return []
        # Keep the estimate of the server's clock right; the deadline is on the steady clock.
        self.skew_seconds -= jump
        detail = f"wall clock moved {jump:+.0f}s relative to the steady clock"
        return [Send(Tamper(kind="clock_changed", detail=detail))]

    # --- helpers --------------------------------------------------------------------

    def _checkpoint(self, now: Instant) -> Persist:
        assert self.session_id is not None
        assert self.scheduled_end_at is not None
        self._last_checkpoint = now.steady
        ending = self.phase is Phase.ENDING
        saved = SavedSession(
            session_id=self.session_id,
            scheduled_end_at=self.scheduled_end_at,
            skew_seconds=self.skew_seconds,
            remaining_seconds=0.0 if ending else max(0.0, self._deadline - now.steady),
            saved_at=now.wall,
            phase="ending" if ending else "active",
            logoff_in_seconds=max(0.0, self._logoff_at - now.steady) if ending else None,
            steady_at=now.steady,
            boot_id=now.boot,
        )
        return Persist(saved)

    def _server_now(self, now: Instant) -> datetime:
        return now.wall + timedelta(seconds=self.skew_seconds)

    def _seconds_until(self, server_moment: datetime, now: Instant) -> float:
        return (server_moment - self._server_now(now)).total_seconds()

    def _thresholds(self) -> list[int]:
        return sorted({self.rules.warning_seconds, self.rules.last_warning_seconds}, reverse=True)

    def _warnings_already_past(self, now: Instant) -> set[int]:
        # A session that starts (or is extended to) below a threshold is not warned about it.
        left = self._total_left(now)
        return {threshold for threshold in self._thresholds() if left <= threshold}

    def _minutes(self, seconds: int) -> str:
        return _minutes_in(self._words, seconds)

    def _show(self, now: Instant, text: str) -> None:
        self._message, self._message_until = text, now.steady + MESSAGE_SHOWN_SECONDS


def _ignore(payload: Payload, now: Instant) -> list[Effect]:
    return []


def _clock_face(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def _minutes_in(words: Words, seconds: int) -> str:
    if seconds % 60:
        return words("overlay.seconds", count=seconds)
    return words("overlay.minutes", count=seconds // 60)
