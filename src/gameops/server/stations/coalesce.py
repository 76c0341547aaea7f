"""The per-station limit on tamper reports. Pure: reports and clock readings in, the
reports to record out.

An agent (or someone holding its token) may send thousands of tamper reports a second.
Each recorded one is an audit row and a push to every dashboard, so repeats are coalesced:
for each kind (and lock flag) the first ``burst`` reports within ``window`` seconds go
through at once (a real agent reports each overlay death of a kill loop, a few a minute),
the rest are only counted, and their total goes as one report when the window closes. A
steady flood thus becomes a few events per kind per window, with a count.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from gameops.protocol import Tamper

OVERFLOW_KIND = "other"  # reports of kinds beyond ``max_kinds`` are counted under this one


@dataclass
class _Window:
    closes_at: float
    passed: int = 1  # reports let through since the window opened
    count: int = 0  # reports held back since the window opened
    detail: str = ""  # the latest held report's


class TamperCoalescer:
    def __init__(self, window: float, max_kinds: int = 16, burst: int = 1) -> None:
        self.window = window
        self.burst = burst
        self.max_kinds = max_kinds
        self._windows: dict[tuple[str, bool], _Window] = {}

    def offer(self, report: Tamper, now: float) -> Tamper | None:
        """The report to record now (with what was held back before it), or None: held."""
        key = (report.kind, report.lock)
        if key not in self._windows and len(self._windows) >= self.max_kinds:
            detail = f"{report.kind}: {report.detail}"[:1000]
            report = msgspec.structs.replace(report, kind=OVERFLOW_KIND, detail=detail)
            key = (OVERFLOW_KIND, report.lock)
        window = self._windows.get(key)
        if window is not None and now < window.closes_at:
            if window.passed < self.burst and not window.count:
                window.passed += 1
                return report
            window.count += report.count
            window.detail = report.detail or window.detail
            return None
        held = window.count if window is not None else 0
        self._windows[key] = _Window(closes_at=now + self.window)
        return msgspec.structs.replace(report, count=report.count + held)

    def due(self, now: float) -> list[Tamper]:
        """What was held in the windows closed by ``now``, one report per kind."""
        reports = []
        for key, window in list(self._windows.items()):
            if window.closes_at > now:
                continue
            if window.count:
                reports.append(_summary(key, window))
                self._windows[key] = _Window(closes_at=now + self.window)  # still flooding?
            else:
                del self._windows[key]
        return reports

    def next_due(self) -> float | None:
        """When the earliest window holding reports closes (None: nothing is held)."""
        return min((w.closes_at for w in self._windows.values() if w.count), default=None)

    def drain(self) -> list[Tamper]:
        """Everything held, at once (the connection is closing)."""
        reports = [_summary(key, w) for key, w in self._windows.items() if w.count]
        self._windows.clear()
        return reports


def _summary(key: tuple[str, bool], window: _Window) -> Tamper:
    kind, lock = key
    return Tamper(kind=kind, detail=window.detail, count=window.count, lock=lock)
