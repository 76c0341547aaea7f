"""The pure rules of staff commands: what is sent, queued or refused, and wake routing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gameops.server.commands.domain import (
    CommandKind,
    SessionEffect,
    Target,
    expired,
    plan,
    redelivered_on_sync,
    route_wake,
    unanswered,
    wake_mac,
)
from gameops.server.errors import BadRequest, Conflict

ONLINE = Target("PC-01", is_pc=True, online=True, in_session=False, tamper_locked=False, mac=None)
OFFLINE = replace(ONLINE, online=False, mac="aa:bb:cc:dd:ee:01")


@pytest.mark.parametrize("kind", [k for k in CommandKind if k.value in ("message", "lock")])
def test_a_message_or_lock_waits_for_an_offline_agent(kind: CommandKind) -> None:
    assert plan(kind, OFFLINE, "hi").delivery == "queue"
    assert plan(kind, ONLINE, "hi").delivery == "send"
    assert redelivered_on_sync(kind)


def test_restart_of_an_offline_pc_offers_wake_and_others_are_refused() -> None:
    with pytest.raises(Conflict, match="offline: use wake") as refused:
        plan(CommandKind.RESTART, OFFLINE)
    assert refused.value.extra == {"offer": "wake"}
    for kind in (CommandKind.SHUTDOWN, CommandKind.LOGOFF):
        with pytest.raises(Conflict, match="needs its agent connected"):
            plan(kind, OFFLINE)
        assert not redelivered_on_sync(kind)


def test_restart_or_shutdown_in_paid_time_needs_confirmation_and_says_what_happens() -> None:
    playing = replace(ONLINE, in_session=True)
    with pytest.raises(Conflict, match="confirm the restart") as refused:
        plan(CommandKind.RESTART, playing)
    assert refused.value.extra["confirm_required"] is True
    assert refused.value.extra["session_effect"] == "kept"
    assert plan(CommandKind.RESTART, playing, confirm=True).session_effect is SessionEffect.KEPT
    assert plan(CommandKind.SHUTDOWN, playing, confirm=True).session_effect is SessionEffect.ENDED
    assert plan(CommandKind.RESTART, ONLINE).session_effect is None  # nobody playing
    assert plan(CommandKind.LOCK, playing).session_effect is None


def test_wake_clear_tamper_message_and_console_rules() -> None:
    assert plan(CommandKind.WAKE, OFFLINE).delivery == "wake"
    with pytest.raises(Conflict, match="already on"):
        plan(CommandKind.WAKE, ONLINE)
    with pytest.raises(Conflict, match="no MAC"):
        plan(CommandKind.WAKE, replace(OFFLINE, mac=None))
    with pytest.raises(Conflict, match="not tamper-locked"):
        plan(CommandKind.CLEAR_TAMPER, ONLINE)
    assert plan(CommandKind.CLEAR_TAMPER, replace(OFFLINE, tamper_locked=True)).delivery == "server"
    with pytest.raises(BadRequest, match="needs a text"):
        plan(CommandKind.MESSAGE, ONLINE, "  ")
    with pytest.raises(Conflict, match="console"):
        plan(CommandKind.LOCK, replace(ONLINE, is_pc=False))


def interfaces(mac: str, ip: str, mask: str = "255.255.255.0") -> dict[str, object]:
    return {"macs": [mac], "interfaces": {mac: f"{ip}/{mask}"}}


def test_wake_goes_through_an_online_agent_on_the_same_subnet() -> None:
    target = interfaces("aa:bb:cc:dd:ee:01", "192.168.1.21")
    other_net, same_net = uuid.uuid4(), uuid.uuid4()
    relays = [
        (other_net, interfaces("aa:bb:cc:dd:ee:02", "192.168.2.5")),
        (same_net, interfaces("aa:bb:cc:dd:ee:03", "192.168.1.7")),
    ]
    route = route_wake(target, relays, from_server=False, server_address=None)
    assert (route.address, route.relay_station_id) == ("192.168.1.255", same_net)
    with pytest.raises(Conflict, match="No online station on the PC's subnet"):
        route_wake(target, relays[:1], from_server=False, server_address=None)
    with pytest.raises(Conflict, match="never reported its network address"):
        route_wake({"macs": ["aa:bb:cc:dd:ee:01"]}, relays, from_server=False, server_address=None)


def test_wake_from_the_server() -> None:
    target = interfaces("aa:bb:cc:dd:ee:01", "10.0.3.21", "255.255.0.0")
    assert route_wake(target, [], from_server=True, server_address=None).address == "10.0.255.255"
    assert route_wake({}, [], from_server=True, server_address="10.0.0.255").address == "10.0.0.255"
    assert route_wake({}, [], from_server=True, server_address=None).address == "255.255.255.255"
    assert route_wake(target, [], from_server=True, server_address=None).relay_station_id is None


def test_the_mac_to_wake() -> None:
    assert wake_mac(interfaces("aa:bb:cc:dd:ee:01", "10.0.0.2")) == "aa:bb:cc:dd:ee:01"
    assert wake_mac({"macs": ["aa:bb:cc:dd:ee:09"]}) == "aa:bb:cc:dd:ee:09"
    assert wake_mac({"interfaces": "junk", "macs": []}) is None
    assert wake_mac({"interfaces": {"aa:bb:cc:dd:ee:01": "not an address"}}) is None
    assert wake_mac(None) is None


def test_a_queued_command_expires() -> None:
    sent = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert not expired(sent, sent + timedelta(minutes=60), 60)
    assert expired(sent, sent + timedelta(minutes=60, seconds=1), 60)


def test_a_command_without_an_answer() -> None:
    sent = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    later = sent + timedelta(seconds=121)
    verdict = unanswered(CommandKind.RESTART, sent, later, 120, 60)
    assert verdict is not None and verdict.startswith("no answer from the PC within 120 s")
    assert unanswered(CommandKind.RESTART, sent, sent + timedelta(seconds=119), 120, 60) is None
    # A message or lock is sent again at the next sync: only its expiry fails it.
    assert unanswered(CommandKind.LOCK, sent, later, 120, 60) is None
    gone = unanswered(CommandKind.MESSAGE, sent, sent + timedelta(minutes=61), 120, 60)
    assert gone is not None and gone.startswith("expired")
