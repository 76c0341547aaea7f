"""A backend that only records what it was asked to do: tests, demos and the fleet simulator."""

from __future__ import annotations

import threading

from .base import PowerAction


class SimulatedControl:
    name = "simulated"

    def __init__(self) -> None:
        self.actions: list[tuple[str, ...]] = []
        self.idle = 0.0
        self.awake = False
        self._lock = threading.Lock()

    def _record(self, *action: str) -> None:
        with self._lock:
            self.actions.append(action)

    def lock_screen(self) -> None:
        self._record("lock_screen")

    def log_off(self) -> None:
        self._record("log_off")

    def keep_awake(self, enabled: bool) -> None:
        self.awake = enabled
        self._record("keep_awake", str(enabled))

    def idle_seconds(self) -> float:
        return self.idle

    def notify(self, title: str, text: str) -> None:
        self._record("notify", title, text)

    def power(self, action: PowerAction) -> bool:
        self._record("power", action)
        return True

    def names(self) -> list[str]:
        with self._lock:
            return [action[0] for action in self.actions]
