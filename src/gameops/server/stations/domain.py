"""Station status rules. Pure: no I/O, so every transition is testable on its own.

``status`` says what a station is doing; whether its agent is connected is kept apart
(``agent_connected``) so a PC in session whose agent dropped still shows IN_SESSION.
"""

from __future__ import annotations

from enum import StrEnum

from gameops.server.errors import Conflict


class StationType(StrEnum):
    PC = "PC"
    CONSOLE = "CONSOLE"


class StationStatus(StrEnum):
    OFFLINE = "OFFLINE"
    ONLINE = "ONLINE"
    IN_SESSION = "IN_SESSION"
    MAINTENANCE = "MAINTENANCE"
    # A console's plug or router is not answering; cleared when it answers again.
    ERROR = "ERROR"


def idle_status(station_type: StationType, agent_connected: bool) -> StationStatus:
    """Status of a station with no session. Consoles have no agent: the server drives them."""
    if station_type is StationType.CONSOLE or agent_connected:
        return StationStatus.ONLINE
    return StationStatus.OFFLINE


def ensure_sellable(status: StationStatus, *, tamper_locked: bool = False) -> None:
    if tamper_locked:
        raise Conflict("Station is tamper-locked: clear the tamper lock on the floor first")
    if status is StationStatus.IN_SESSION:
        raise Conflict("Station is busy")
    if status is StationStatus.MAINTENANCE:
        raise Conflict("Station is in maintenance")


def status_after_session(
    current: StationStatus, station_type: StationType, agent_connected: bool
) -> StationStatus:
    if current in (StationStatus.MAINTENANCE, StationStatus.ERROR):
        return current
    return idle_status(station_type, agent_connected)


def status_after_agent_presence(
    current: StationStatus, station_type: StationType, agent_connected: bool
) -> StationStatus:
    """An agent connecting or leaving changes only an idle station's status."""
    if current in (StationStatus.IN_SESSION, StationStatus.MAINTENANCE, StationStatus.ERROR):
        return current
    return idle_status(station_type, agent_connected)


def status_after_request(
    current: StationStatus,
    requested: StationStatus,
    station_type: StationType,
    agent_connected: bool,
) -> StationStatus:
    """Staff or an agent asks for MAINTENANCE or back to service (ONLINE)."""
    if requested not in (StationStatus.MAINTENANCE, StationStatus.ONLINE):
        raise Conflict(f"Status {requested} is set by the server, not requested")
    if current is StationStatus.IN_SESSION:
        raise Conflict("Station has an active session; stop it first")
    if requested is StationStatus.MAINTENANCE:
        return requested
    return idle_status(station_type, agent_connected)


def status_after_device_recovered(current: StationStatus, in_session: bool) -> StationStatus:
    """A console's devices answer again: ERROR gives way to what the station is doing."""
    if current is not StationStatus.ERROR:
        return current
    return StationStatus.IN_SESSION if in_session else StationStatus.ONLINE


# Stops that are not the venue's own doing when paid time is running: a tamper. A shutdown
# ends the customer's own use of the PC (the session keeps counting) and is only recorded.
TAMPER_STOP_REASONS = frozenset({"service_stop", "uninstall", "update"})
# Input this recent at the stop: someone was at the PC when its client was stopped.
IN_USE_IDLE_SECONDS = 120


def stop_is_tamper(reason: str, session_running: bool) -> bool:
    return session_running and reason in TAMPER_STOP_REASONS
