"""Readings of the two clocks the agent needs: a steady one to count down, the wall clock
to talk to the server. Counting on the steady clock is what makes changing the PC's
wall clock useless for a customer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")  # Linux: new at every boot


@dataclass(frozen=True)
class Instant:
    """One reading of both clocks taken together."""

    steady: float  # seconds, only differences mean anything
    wall: datetime  # aware, UTC
    boot: str | None = None  # which boot ``steady`` counts from, where the OS can tell


class Clock(Protocol):
    def now(self) -> Instant: ...


def _steady_seconds() -> float:
    # CLOCK_BOOTTIME keeps counting through suspend, so sleeping the PC does not pause a
    # session; elsewhere (Windows) time.monotonic already does.
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime(boottime)
    return time.monotonic()


def boot_id() -> str | None:
    """This boot's identity (Linux), so a steady reading saved before a restart can be
    compared with one taken after it. Elsewhere None: the wall clock has to do."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


class SystemClock:
    def __init__(self) -> None:
        self.boot = boot_id()

    def now(self) -> Instant:
        return Instant(steady=_steady_seconds(), wall=datetime.now(UTC), boot=self.boot)
