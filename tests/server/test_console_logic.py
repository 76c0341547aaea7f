"""The pure parts of console control: breaker, backoff, reconciliation decisions, status
rules and password sealing. No I/O."""

from __future__ import annotations

import pytest

from gameops.server.control.reconcile import PlugAction, RouterFix, plug_action, router_fix
from gameops.server.control.resilience import BreakerState, CircuitBreaker, backoff_delays
from gameops.server.stations.device_secrets import DeviceSecrets
from gameops.server.stations.domain import (
    StationStatus,
    StationType,
    ensure_sellable,
    status_after_agent_presence,
    status_after_device_recovered,
    status_after_session,
)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert backoff_delays(4, 0.5, cap=3) == [0.5, 1.0, 2.0, 3]
    assert backoff_delays(0, 0.5) == []


def test_breaker_opens_after_the_threshold_and_probes_after_the_reset() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after=10)
    for now in (0, 1):
        breaker.failed(now)
        assert breaker.allows(now)
    breaker.failed(2)
    assert breaker.state(2) is BreakerState.OPEN and not breaker.allows(11.9)
    assert breaker.state(12) is BreakerState.HALF_OPEN and breaker.allows(12)
    breaker.failed(12)  # the probe failed: open again, for a full period
    assert not breaker.allows(21)
    assert breaker.allows(22)
    breaker.succeeded()
    assert breaker.state(22) is BreakerState.CLOSED and breaker.failures == 0


@pytest.mark.parametrize(
    ("relay_on", "in_session", "powering_off", "expected"),
    [
        (True, False, False, PlugAction.OFF),  # button pressed while idle
        (False, True, False, PlugAction.ON),  # switched off during a session
        (False, True, True, PlugAction.ON),
        (True, False, True, None),  # the grace after a session: on purpose
        (True, True, False, None),
        (False, False, False, None),
    ],
)
def test_plug_action(
    relay_on: bool, in_session: bool, powering_off: bool, expected: PlugAction | None
) -> None:
    assert plug_action(relay_on, in_session, powering_off) is expected


def test_router_fix() -> None:
    assert router_fix(True, True, True) == RouterFix(False, False, False)
    assert router_fix(False, False, True) == RouterFix(True, True, False)  # rebooted empty
    assert router_fix(False, False, False) == RouterFix(True, False, False)
    assert router_fix(True, True, False) == RouterFix(False, False, True)


def test_error_status_rules() -> None:
    ensure_sellable(StationStatus.ERROR)  # the device call decides (502 if still dead)
    console = StationType.CONSOLE
    assert status_after_session(StationStatus.ERROR, console, False) is StationStatus.ERROR
    assert status_after_agent_presence(StationStatus.ERROR, console, False) is StationStatus.ERROR
    recovered = status_after_device_recovered
    assert recovered(StationStatus.ERROR, in_session=True) is StationStatus.IN_SESSION
    assert recovered(StationStatus.ERROR, in_session=False) is StationStatus.ONLINE
    assert recovered(StationStatus.MAINTENANCE, in_session=False) is StationStatus.MAINTENANCE


def test_device_passwords_are_sealed_with_the_key() -> None:
    # Spaces and "!" cannot occur in a Fernet token (URL-safe base64), so finding either
    # password in it would mean it leaked; "p1" turned up in a token by chance (flaky).
    passwords = {"shelly": "plug pass!", "mikrotik": "router pass!"}
    sealed = DeviceSecrets("key-one").seal(passwords)
    assert sealed is not None and all(p not in sealed for p in passwords.values())
    assert DeviceSecrets("key-one").open(sealed) == passwords
    assert DeviceSecrets("key-two").open(sealed) == {}  # another key reads nothing
    assert DeviceSecrets("key-one").seal({}) is None
