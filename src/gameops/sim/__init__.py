"""Simulators that speak the same wire protocols as the real devices and agents."""
