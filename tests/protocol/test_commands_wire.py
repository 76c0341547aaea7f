"""Staff commands on the wire, and the Wake-on-LAN magic packet as a network card sees it."""

from __future__ import annotations

import socket
import uuid

import pytest

from gameops.agent.specs import agent_hello, system_specs
from gameops.protocol import (
    AGENT_MESSAGES,
    SERVER_MESSAGES,
    AgentHello,
    CommandResult,
    ProtocolError,
    StationCommand,
    WakeRelay,
    decode,
    encode,
)
from gameops.protocol.wake import (
    directed_broadcast,
    magic_packet,
    normalise_mac,
    same_subnet,
    send_magic_packet,
)


def test_commands_round_trip() -> None:
    command = StationCommand(id=uuid.uuid4(), kind="message", text="Closing in 10 min", by="ana")
    result = CommandResult(id=command.id, ok=True, detail="Got it", seen=True)
    relay = WakeRelay(id=uuid.uuid4(), mac="aa:bb:cc:00:11:22", address="192.168.1.255")
    assert decode(encode(command), SERVER_MESSAGES)[1] == command
    assert decode(encode(relay), SERVER_MESSAGES)[1] == relay
    assert decode(encode(result), AGENT_MESSAGES)[1] == result


@pytest.mark.parametrize(
    "data",
    [
        '{"id": "%s", "kind": "format_disk"}',
        '{"id": "%s", "kind": "message", "text": "' + "x" * 501 + '"}',
    ],
)
def test_unknown_kinds_and_long_texts_are_refused(data: str) -> None:
    frame = '{"type": "station_command", "data": ' + data % uuid.uuid4() + "}"
    with pytest.raises(ProtocolError, match="invalid station_command"):
        decode(frame, SERVER_MESSAGES)


def test_a_relay_takes_only_a_mac_and_an_ipv4_address() -> None:
    bad = '{"type": "wake_relay", "data": {"id": "%s", "mac": "AA-BB", "address": "x"}}'
    with pytest.raises(ProtocolError, match="mac"):
        decode(bad % uuid.uuid4(), SERVER_MESSAGES)


def test_mac_spellings() -> None:
    assert normalise_mac("AA-BB-CC-DD-EE-0F") == "aa:bb:cc:dd:ee:0f"
    assert normalise_mac("aabb.ccdd.ee0f") == "aa:bb:cc:dd:ee:0f"
    with pytest.raises(ValueError, match="not a MAC"):
        normalise_mac("aa:bb:cc:dd:ee")


def test_subnets() -> None:
    assert directed_broadcast("192.168.1.23", "255.255.255.0") == "192.168.1.255"
    assert directed_broadcast("10.1.2.3", "255.255.0.0") == "10.1.255.255"
    assert same_subnet("192.168.1.23", "192.168.1.200", "255.255.255.0")
    assert not same_subnet("192.168.1.23", "192.168.2.200", "255.255.255.0")
    assert not same_subnet("192.168.1.23", "not an ip", "255.255.255.0")


def test_the_magic_packet_as_received_on_a_udp_socket() -> None:
    """6 x 0xFF then 16 x the MAC, in one datagram, broadcast on the loopback network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("0.0.0.0", 0))
        receiver.settimeout(5)
        port = receiver.getsockname()[1]
        send_magic_packet("00-1A-2b-3C-4d-5E", directed_broadcast("127.0.0.1", "255.0.0.0"), port)
        packet, _ = receiver.recvfrom(1024)
    mac = bytes([0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E])
    assert len(packet) == 102
    assert packet[:6] == b"\xff" * 6
    assert [packet[6 + 6 * i : 12 + 6 * i] for i in range(16)] == [mac] * 16
    assert packet == magic_packet("00:1a:2b:3c:4d:5e")


def test_this_pcs_specs_with_its_interfaces_pass_the_hello_bounds() -> None:
    """What the wake routing reads (``interfaces``) fits the protocol's specs limits."""
    specs = system_specs()
    _, hello = decode(encode(agent_hello(specs)), AGENT_MESSAGES)
    assert isinstance(hello, AgentHello)
    assert hello.specs["interfaces"] == specs["interfaces"]
    assert all(isinstance(v, str) and "/" in v for v in specs["interfaces"].values())
