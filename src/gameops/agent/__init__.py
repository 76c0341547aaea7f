"""The PC agent: enforces paid time on a gaming PC, online or offline.

Imports nothing of ``gameops.server``: a station installs only the ``agent`` extra.
"""

AGENT_VERSION = "0.1.0"
