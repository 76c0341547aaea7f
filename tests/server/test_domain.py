"""The pure rules, without a database or a socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gameops.server.errors import BadRequest, Conflict, Unprocessable
from gameops.server.sessions.domain import (
    SessionStatus,
    check_duration,
    check_extension,
    price_minor_units,
    seconds_left,
)
from gameops.server.stations.domain import (
    StationStatus,
    StationType,
    ensure_sellable,
    idle_status,
    status_after_agent_presence,
    status_after_request,
    status_after_session,
)


@pytest.mark.parametrize(
    ("rate", "minutes", "price"),
    [
        (600, 60, 600),
        (600, 1, 10),
        (725, 50, 604),
        (100, 1, 2),
        (100, 0, 0),
        (0, 90, 0),
        (99, 30, 50),
    ],
)
def test_price_is_rounded_half_up_to_a_minor_unit(rate: int, minutes: int, price: int) -> None:
    assert price_minor_units(rate, minutes) == price


def test_durations() -> None:
    check_duration(1, 1440)
    check_duration(1440, 1440)
    for bad in (0, -1, 1441):
        with pytest.raises(Unprocessable):
            check_duration(bad, 1440)


def test_extension_rules() -> None:
    check_extension(SessionStatus.ACTIVE, 60, 30, 1440)
    with pytest.raises(BadRequest, match="Cannot extend inactive session"):
        check_extension(SessionStatus.EXPIRED, 60, 30, 1440)
    with pytest.raises(Unprocessable, match="1380 can be added"):
        check_extension(SessionStatus.ACTIVE, 60, 1400, 1440)


def test_seconds_left_never_negative() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert seconds_left(now + timedelta(seconds=90.5), now) == 90.5
    assert seconds_left(now - timedelta(seconds=5), now) == 0


def test_idle_status() -> None:
    assert idle_status(StationType.PC, agent_connected=False) is StationStatus.OFFLINE
    assert idle_status(StationType.PC, agent_connected=True) is StationStatus.ONLINE
    assert idle_status(StationType.CONSOLE, agent_connected=False) is StationStatus.ONLINE


def test_sellable() -> None:
    ensure_sellable(StationStatus.ONLINE)
    ensure_sellable(StationStatus.OFFLINE)  # an offline PC's agent syncs when it returns
    with pytest.raises(Conflict, match="busy"):
        ensure_sellable(StationStatus.IN_SESSION)
    with pytest.raises(Conflict, match="maintenance"):
        ensure_sellable(StationStatus.MAINTENANCE)


def test_an_active_session_keeps_the_station_in_session_whatever_the_agent_does() -> None:
    for connected in (True, False):
        assert (
            status_after_agent_presence(StationStatus.IN_SESSION, StationType.PC, connected)
            is StationStatus.IN_SESSION
        )
    assert (
        status_after_agent_presence(StationStatus.OFFLINE, StationType.PC, True)
        is StationStatus.ONLINE
    )
    assert (
        status_after_agent_presence(StationStatus.MAINTENANCE, StationType.PC, False)
        is StationStatus.MAINTENANCE
    )


def test_session_end_returns_station_to_idle_but_keeps_maintenance() -> None:
    assert (
        status_after_session(StationStatus.IN_SESSION, StationType.PC, False)
        is StationStatus.OFFLINE
    )
    assert (
        status_after_session(StationStatus.MAINTENANCE, StationType.PC, True)
        is StationStatus.MAINTENANCE
    )


def test_requested_status() -> None:
    pc = StationType.PC
    assert (
        status_after_request(StationStatus.ONLINE, StationStatus.MAINTENANCE, pc, True)
        is StationStatus.MAINTENANCE
    )
    assert (
        status_after_request(StationStatus.MAINTENANCE, StationStatus.ONLINE, pc, False)
        is StationStatus.OFFLINE
    )
    with pytest.raises(Conflict, match="active session"):
        status_after_request(StationStatus.IN_SESSION, StationStatus.MAINTENANCE, pc, True)
    with pytest.raises(Conflict, match="set by the server"):
        status_after_request(StationStatus.ONLINE, StationStatus.IN_SESSION, pc, True)
