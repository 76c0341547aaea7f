"""System control: one interface (lock, log off, keep awake, idle time, notify), three
backends chosen at start-up: Windows (ctypes), Linux (loginctl & co.), Simulated."""

from .base import SystemControl, select_control
from .simulated import SimulatedControl

__all__ = ["SimulatedControl", "SystemControl", "select_control"]
