"""What the session state machine asks the outside world to do, and what it shows.

Effects are plain values: the state machine returns them, the runtime carries them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from gameops.protocol import Payload

Band = Literal["green", "orange", "red"]
# "grace": paid time is over, the desktop stays usable under a banner counting down to the
# lock and log-off (``remaining_seconds``); "locked": the full-screen lock view.
Mode = Literal["locked", "session", "grace"]
LockReason = Literal["no_session", "expired", "stopped", "tamper"]

GREEN_ABOVE_SECONDS = 600
RED_BELOW_SECONDS = 300


@dataclass(frozen=True)
class Send:
    """A message for the server. ``queue_offline=False`` drops it when not connected."""

    payload: Payload
    queue_offline: bool = True


@dataclass(frozen=True)
class Lock:
    reason: LockReason


@dataclass(frozen=True)
class Unlock:
    pass


@dataclass(frozen=True)
class LogOff:
    pass


@dataclass(frozen=True)
class KeepAwake:
    enabled: bool


@dataclass(frozen=True)
class Notify:
    text: str
    level: Literal["info", "warning"] = "info"


@dataclass(frozen=True)
class SavedSession:
    """The session as written to the state file, enough to resume after a crash or reboot."""

    session_id: UUID
    scheduled_end_at: datetime  # on the server's clock
    skew_seconds: float  # server clock minus this PC's wall clock
    remaining_seconds: float  # at ``saved_at``; caps what a resumed session may have
    saved_at: datetime  # this PC's wall clock
    phase: Literal["active", "ending"]
    logoff_in_seconds: float | None = None
    # The steady clock at ``saved_at``, and the boot it counts from: within one boot the
    # time the agent was down is known exactly, whatever the wall clock says.
    steady_at: float | None = None
    boot_id: str | None = None


@dataclass(frozen=True)
class Persist:
    """Write the state file; ``None`` removes it (no session to resume)."""

    saved: SavedSession | None


@dataclass(frozen=True)
class SavedTamperLock:
    """A tamper lock as written to the state file: it holds across restarts until staff
    clear it."""

    reason: str
    locked_at: datetime  # this PC's wall clock
    # The log-off is due this many seconds after ``locked_at``; None: done already.
    logoff_in_seconds: float | None = None


@dataclass(frozen=True)
class PersistTamperLock:
    """Write the tamper lock to the state file; ``None`` removes it (cleared by staff)."""

    lock: SavedTamperLock | None


@dataclass(frozen=True)
class ReachServer:
    """Retry the server at once (the backoff may be long) and ask for a sync."""


Effect = (
    Send | Lock | Unlock | LogOff | KeepAwake | Notify | Persist | PersistTamperLock | ReachServer
)


@dataclass(frozen=True)
class LoginView:
    """The lock view's login form: where this is, the prices here now, and the answer to the
    last attempt (a refusal, or how long a throttled station must wait)."""

    station: str = ""
    venue: str = ""
    prices: tuple[str, ...] = ()
    message: str = ""
    wait_seconds: int = 0
    packages: tuple[tuple[str, str], ...] = ()  # (name, what it says) a member can buy here
    reserved: str = ""  # "Reserved for Ada at 18:00": only Ada may log in here now


@dataclass(frozen=True)
class View:
    """What the overlay shows right now."""

    mode: Mode
    remaining_seconds: int | None = None
    message: str = ""
    login: LoginView | None = None  # the lock view's login form; None: no login here now
    wallet: str = ""  # pay-as-you-go: the balance left (or a ticket's time)
    logout: bool = False  # the customer may log out from the overlay
    offer: str = ""  # the grace banner's line on how to play on

    @property
    def band(self) -> Band | None:
        if self.mode != "session" or self.remaining_seconds is None:
            return None
        return band_for(self.remaining_seconds)


def band_for(remaining_seconds: int) -> Band:
    """Green above 10 minutes, orange from 5 to 10, red under 5."""
    if remaining_seconds > GREEN_ABOVE_SECONDS:
        return "green"
    if remaining_seconds >= RED_BELOW_SECONDS:
        return "orange"
    return "red"
