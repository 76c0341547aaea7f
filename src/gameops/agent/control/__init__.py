"""System control: one interface (lock, log off, keep awake, idle time, notify), three
backends chosen at start-up: Windows (ctypes), Linux (loginctl & co.), Simulated."""

from .base import PowerAction, SystemControl, select_control
from .simulated import SimulatedControl

__all__ = ["PowerAction", "SimulatedControl", "SystemControl", "select_control"]
