"""Two pure pieces of the session logic that guard against tampering: the tamper lock's
bookkeeping, and how long the agent was down (which the wall clock alone cannot be
trusted to say)."""

from __future__ import annotations

from dataclasses import dataclass

from gameops.protocol import Tamper

from .clock import Instant
from .effects import SavedSession, SavedTamperLock

# A wall clock that moves this much more or less than the steady clock was changed by hand.
CLOCK_JUMP_TOLERANCE_SECONDS = 5.0


class TamperLockState:
    """Fail-closed after tampering: held until staff clear it, with one log-off due."""

    def __init__(self) -> None:
        self.saved: SavedTamperLock | None = None  # as the state file keeps it
        self._logoff_at: float | None = None  # steady clock: the log-off, while still due

    @property
    def reason(self) -> str | None:
        return self.saved.reason if self.saved else None

    def engage(self, reason: str, now: Instant, grace_seconds: float) -> bool:
        """Lock for ``reason``; False if it already was (the first reason stays)."""
        if self.saved is not None:
            return False
        self.saved = SavedTamperLock(reason, now.wall, grace_seconds)
        self._logoff_at = now.steady + grace_seconds
        return True

    def resume(self, saved: SavedTamperLock, now: Instant) -> None:
        self.saved = saved
        if saved.logoff_in_seconds is not None:
            locked_for = max(0.0, (now.wall - saved.locked_at).total_seconds())
            self._logoff_at = now.steady + max(0.0, saved.logoff_in_seconds - locked_for)

    def logoff_due(self, now: Instant) -> bool:
        """True once, when the log-off falls due; the saved lock then records it done."""
        if self._logoff_at is None or now.steady < self._logoff_at or self.saved is None:
            return False
        self._logoff_at = None
        saved = self.saved
        self.saved = SavedTamperLock(saved.reason, saved.locked_at, None)
        return True

    def clear(self) -> bool:
        """Staff cleared it; False if there was nothing to clear."""
        was_locked = self.saved is not None
        self.saved = self._logoff_at = None
        return was_locked


@dataclass(frozen=True)
class Downtime:
    seconds: float | None  # None: not knowable (the wall clock went back across a reboot)
    clock_jump: float = 0.0  # how far the wall clock moved beyond the time down
    report: Tamper | None = None


def measure_downtime(now: Instant, saved: SavedSession) -> Downtime:
    """How long the agent was down since ``saved``, and a tamper report if the wall clock
    was turned meanwhile. Within one boot the steady clock says it exactly."""
    by_wall = (now.wall - saved.saved_at).total_seconds()
    same_boot = saved.boot_id is not None and saved.boot_id == now.boot
    if same_boot and saved.steady_at is not None and now.steady >= saved.steady_at:
        elapsed = now.steady - saved.steady_at
        jump = by_wall - elapsed
        if abs(jump) <= CLOCK_JUMP_TOLERANCE_SECONDS:
            return Downtime(elapsed)
        detail = f"wall clock moved {jump:+.0f}s while the agent was down; time counted"
        return Downtime(elapsed, jump, Tamper(kind="clock_changed_while_down", detail=detail))
    if by_wall >= -CLOCK_JUMP_TOLERANCE_SECONDS:
        return Downtime(max(0.0, by_wall))
    detail = (
        f"wall clock is {-by_wall:.0f}s behind the last save, across a reboot: "
        "nothing resumed from the state file until the server answers"
    )
    return Downtime(None, report=Tamper(kind="clock_back_while_down", detail=detail))
