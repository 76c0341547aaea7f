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
from uuid import UUID

from gameops.protocol import (
    ACKED_COMMANDS,
    Ack,
    HeartbeatAck,
    NoSession,
    Payload,
    ServerHello,
    SessionEnd,
    SessionExpired,
    SessionExtended,
    SessionStart,
    SyncRequest,
    SyncResponse,
    Tamper,
)

from .clock import Instant
from .effects import (
    Effect,
    KeepAwake,
    Lock,
    LockReason,
    LogOff,
    Notify,
    Persist,
    SavedSession,
    Send,
    Unlock,
    View,
)

# A wall clock that moves this much more or less than the steady clock was changed by hand.
CLOCK_JUMP_TOLERANCE_SECONDS = 5.0
LAST_WARNING_SECONDS = 60
MESSAGE_SHOWN_SECONDS = 10.0


_Handler = Callable[[Payload, Instant], list[Effect]]


class Phase(Enum):
    LOCKED = "locked"  # no session: the station stays locked
    ACTIVE = "active"  # paid time running
    # Paid time is over: the grace period to save work, the desktop still usable under a
    # banner counting down; then lock and log off.
    ENDING = "ending"


@dataclass(frozen=True)
class SessionRules:
    warning_seconds: int = 300
    grace_seconds: int = 60
    checkpoint_seconds: float = 5.0  # how often a running session is saved to disk
    logs_off: bool = True  # only changes what the grace banner says; the runtime skips log-off


class SessionMachine:
    """Tracks the current session. Every public method returns the effects to carry out."""

    def __init__(self, rules: SessionRules) -> None:
        self.rules = rules
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

    # --- inputs ---------------------------------------------------------------------

    def start(self, now: Instant, saved: SavedSession | None) -> list[Effect]:
        """First call: resume a saved session, or lock the station."""
        self._last = now
        if saved is None:
            return [Lock("no_session"), KeepAwake(False)]
        return self._resume(now, saved)

    def handle(self, message_id: UUID, payload: Payload, now: Instant) -> list[Effect]:
        """React to one message from the server; commands are acknowledged first."""
        effects: list[Effect] = []
        if payload.TYPE in ACKED_COMMANDS:
            effects.append(Send(Ack(id=message_id)))
        server_time = getattr(payload, "server_time", None)
        if isinstance(server_time, datetime):
            self.skew_seconds = (server_time - now.wall).total_seconds()
        handler = self._handlers().get(type(payload))
        if handler is not None:
            effects += handler(payload, now)
        return effects

    def tick(self, now: Instant) -> list[Effect]:
        """Advance time: detect clock changes, warn, expire, log off, checkpoint."""
        effects = self._check_wall_clock(now)
        self._last = now
        if self.phase is Phase.ACTIVE:
            effects += self._tick_active(now)
        elif self.phase is Phase.ENDING and now.steady >= self._logoff_at:
            effects += self._finish_grace(now)
        return effects

    # --- outputs --------------------------------------------------------------------

    def remaining_seconds(self, now: Instant) -> int | None:
        if self.phase is not Phase.ACTIVE:
            return None
        return max(0, math.ceil(self._deadline - now.steady))

    def view(self, now: Instant) -> View:
        message = self._message if now.steady < self._message_until else ""
        if self.phase is Phase.ACTIVE:
            return View("session", self.remaining_seconds(now), message)
        if self.phase is Phase.ENDING:
            left = max(0, math.ceil(self._logoff_at - now.steady))
            then = "log-off" if self.rules.logs_off else "the station locks"
            return View("grace", left, f"Save your work now: {then} in {_clock_face(left)}")
        return View("locked", None, message or "Please see the front desk.")

    def sync_request(self) -> SyncRequest:
        return SyncRequest(last_known_session_id=self.session_id)

    # --- message handlers -----------------------------------------------------------

    def _handlers(self) -> dict[type[Payload], _Handler]:
        return {
            SessionStart: self._on_start,
            SessionExtended: self._on_extended,
            SessionEnd: self._on_end,
            SessionExpired: self._on_expired,
            SyncResponse: self._on_sync,
            NoSession: self._on_no_session,
            ServerHello: _ignore,
            HeartbeatAck: _ignore,
        }

    def _on_start(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionStart)
        return self._begin(payload.id, payload.scheduled_end_at, now, "Session started. Have fun!")

    def _on_sync(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SyncResponse)
        session = payload.session
        if self._seconds_until(session.scheduled_end_at, now) > 0:
            resumed = self.phase is Phase.ACTIVE and self.session_id == session.id
            text = "" if resumed else "Session resumed."
            return self._begin(session.id, session.scheduled_end_at, now, text)
        if self.phase is Phase.ACTIVE and self.session_id == session.id:
            return self._enter_ending(now, self.rules.grace_seconds)
        return []

    def _on_extended(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionExtended)
        if payload.id != self.session_id:
            return [Send(self.sync_request())]
        return self._begin(payload.id, payload.new_end_time, now, "Time added!")

    def _on_end(self, payload: Payload, now: Instant) -> list[Effect]:
        assert isinstance(payload, SessionEnd)
        if self.session_id not in (None, payload.id):
            return [Send(self.sync_request())]
        self._show(now, "Session stopped by staff.")
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
        self._deadline = now.steady + self._seconds_until(end_at, now)
        self._warned = self._warnings_already_past(now)
        if text:
            self._show(now, text)
        effects: list[Effect] = [] if was_active else [Unlock(), KeepAwake(True)]
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
        return [Notify("Session ended. Save your work now.", "warning"), self._checkpoint(now)]

    def _enter_locked(self, ended_id: UUID | None, reason: LockReason) -> list[Effect]:
        self.phase, self._ended_session_id = Phase.LOCKED, ended_id
        self.session_id = self.scheduled_end_at = None
        return [Lock(reason), KeepAwake(False), Persist(None)]

    def _finish_grace(self, now: Instant) -> list[Effect]:
        self._show(now, "Session ended. Please see the front desk.")
        # The lock first: it holds even where the log-off fails or is turned off.
        return [*self._enter_locked(self.session_id, "expired"), LogOff()]

    def _resume(self, now: Instant, saved: SavedSession) -> list[Effect]:
        """Resume from the state file, never with more time than was saved."""
        self.skew_seconds = saved.skew_seconds
        elapsed = max(0.0, (now.wall - saved.saved_at).total_seconds())
        if saved.phase == "ending":
            self.session_id, self.scheduled_end_at = saved.session_id, saved.scheduled_end_at
            return self._enter_ending(now, max(0.0, (saved.logoff_in_seconds or 0) - elapsed))
        by_clock = self._seconds_until(saved.scheduled_end_at, now)
        remaining = min(saved.remaining_seconds - elapsed, by_clock)
        if remaining <= 0:
            self.session_id, self.scheduled_end_at = saved.session_id, saved.scheduled_end_at
            return self._enter_ending(now, self.rules.grace_seconds)
        capped_end = self._server_now(now) + timedelta(seconds=remaining)
        return self._begin(saved.session_id, capped_end, now, "Session resumed.")

    # --- ticking --------------------------------------------------------------------

    def _tick_active(self, now: Instant) -> list[Effect]:
        left = self._deadline - now.steady
        if left <= 0:
            return self._enter_ending(now, self.rules.grace_seconds)
        effects: list[Effect] = []
        for threshold in self._thresholds():
            if left <= threshold and threshold not in self._warned:
                self._warned.add(threshold)
                text = f"{_minutes(threshold)} left. Save your game soon."
                self._show(now, text)
                effects.append(Notify(text, "warning"))
        if now.steady - self._last_checkpoint >= self.rules.checkpoint_seconds:
            effects.append(self._checkpoint(now))
        return effects

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
        )
        return Persist(saved)

    def _server_now(self, now: Instant) -> datetime:
        return now.wall + timedelta(seconds=self.skew_seconds)

    def _seconds_until(self, server_moment: datetime, now: Instant) -> float:
        return (server_moment - self._server_now(now)).total_seconds()

    def _thresholds(self) -> list[int]:
        return sorted({self.rules.warning_seconds, LAST_WARNING_SECONDS}, reverse=True)

    def _warnings_already_past(self, now: Instant) -> set[int]:
        # A session that starts (or is extended to) below a threshold is not warned about it.
        left = self._deadline - now.steady
        return {threshold for threshold in self._thresholds() if left <= threshold}

    def _show(self, now: Instant, text: str) -> None:
        self._message, self._message_until = text, now.steady + MESSAGE_SHOWN_SECONDS


def _ignore(payload: Payload, now: Instant) -> list[Effect]:
    return []


def _clock_face(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def _minutes(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
