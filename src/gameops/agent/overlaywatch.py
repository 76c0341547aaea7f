"""What each end of the overlay means, how it is reported, and when it is a tamper that
locks the station. Pure: the supervisor's exits and a steady clock in, reports out.

- Every end is counted (:attr:`OverlayWatch.ends`).
- The one end our own log-off causes (within a minute of it) is expected: not reported.
- A kill or freeze is reported each time, with how many ends there were in the last
  minute; more than ``allowed_per_minute`` of them during a session is a tamper that locks
  the station until staff clear it. An overlay dying before it answered counts too while a
  session runs: from here it looks the same as one killed the moment it started.
- A child that fails at start-up (no display) or cannot be launched at all is reported at
  once, then summed up as a burst with its count once a minute while it goes on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from gameops.protocol import Tamper

from .supervisor import Exit

WINDOW_SECONDS = 60.0  # kills and freezes are counted over this window
LOGOFF_EXCUSE_SECONDS = 60.0  # our own log-off ends the overlay within this
BURST_REPORT_SECONDS = 60.0  # a run of failed starts is summed up this often


@dataclass(frozen=True)
class Verdict:
    report: Tamper | None = None
    lock_reason: str | None = None  # set: lock the station until staff clear it


class OverlayWatch:
    def __init__(self, allowed_per_minute: int) -> None:
        self.allowed_per_minute = allowed_per_minute
        self.ends = 0  # every end of the overlay, whatever the cause
        self._kills: deque[float] = deque()  # ends counted towards the lock, steady times
        self._logged_off_at: float | None = None
        self._burst_reported_at: float | None = None
        self._unreported_failures = 0
        self._last_failure = ""

    def logged_off(self, now: float) -> None:
        self._logged_off_at = now

    def ended(self, end: Exit, now: float, in_session: bool) -> Verdict:
        self.ends += 1
        if self._logged_off_at is not None and now - self._logged_off_at < LOGOFF_EXCUSE_SECONDS:
            self._logged_off_at = None  # excuses one end: the one the log-off caused
            return Verdict()
        if not end.answered:
            return self._failed_start(end, now, in_session)
        return self._kill(end, now, in_session)

    def launch_failed(self, err: Exception, now: float) -> Tamper | None:
        return self._failure(f"the user-session part (overlay) could not be started: {err!r}", now)

    def flush(self, now: float) -> Tamper | None:
        """The failures of a burst not reported yet, once their minute is up (every tick)."""
        if self._unreported_failures == 0 or self._burst_reported_at is None:
            return None
        if now - self._burst_reported_at < BURST_REPORT_SECONDS:
            return None
        return self._burst(now)

    def _kill(self, end: Exit, now: float, in_session: bool) -> Verdict:
        count, lock = self._count(now, in_session)
        how = "stopped answering and was restarted" if end.frozen else "was ended; restarted"
        detail = f"user-session part (overlay) {how} ({count} in the last minute)"
        if lock is not None:
            detail += "; station locked until staff clear it"
        kind = "overlay_frozen" if end.frozen else "overlay_killed"
        return Verdict(Tamper(kind=kind, detail=detail, count=count, lock=lock is not None), lock)

    def _failed_start(self, end: Exit, now: float, in_session: bool) -> Verdict:
        """Died before it answered: no display, say, or killed the moment it started (which
        looks the same from here). In paid time it counts towards the lock like a kill."""
        detail = f"user-session part (overlay) exited with code {end.returncode} at start-up"
        count, lock = self._count(now, in_session)
        if lock is None:
            return Verdict(self._failure(detail, now))
        self._unreported_failures = 0
        detail += f" ({count} ends in the last minute); station locked until staff clear it"
        return Verdict(Tamper(kind="overlay_failed", detail=detail, count=count, lock=True), lock)

    def _count(self, now: float, in_session: bool) -> tuple[int, str | None]:
        """Ends in the last minute, counting this one; and a lock reason past the limit."""
        self._kills.append(now)
        while self._kills and now - self._kills[0] > WINDOW_SECONDS:
            self._kills.popleft()
        count = len(self._kills)
        if in_session and count > self.allowed_per_minute:
            limit = self.allowed_per_minute
            return count, f"overlay ended {count} times in a minute (more than {limit})"
        return count, None

    def _failure(self, detail: str, now: float) -> Tamper | None:
        self._last_failure = detail
        self._unreported_failures += 1
        due = self._burst_reported_at is None or (
            now - self._burst_reported_at >= BURST_REPORT_SECONDS
        )
        return self._burst(now) if due else None

    def _burst(self, now: float) -> Tamper:
        count, self._unreported_failures = self._unreported_failures, 0
        self._burst_reported_at = now
        detail = self._last_failure if count == 1 else f"{self._last_failure} ({count} times)"
        return Tamper(kind="overlay_failed", detail=detail[:1000], count=count)

    def recovered(self, now: float) -> Tamper | None:
        """The overlay answers again: the rest of a failure burst is reported now."""
        report = self._burst(now) if self._unreported_failures else None
        self._burst_reported_at = None
        return report
