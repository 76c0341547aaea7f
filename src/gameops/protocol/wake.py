"""Wake-on-LAN: the magic packet, where to send it, and sending it. Used by the server (when
it is on the venue's LAN) and by an agent relaying for a PC on its subnet."""

from __future__ import annotations

import ipaddress
import re
import socket

WAKE_PORT = 9  # "discard": what most network cards and tools use
_HEX = re.compile(r"[0-9a-f]{12}")


def normalise_mac(mac: str) -> str:
    """``AA-BB-CC-DD-EE-FF`` (or with colons, dots, none) as ``aa:bb:cc:dd:ee:ff``.

    Raises ValueError for anything that is not 6 bytes of hex.
    """
    digits = re.sub(r"[:\-.\s]", "", mac.strip().lower())
    if not _HEX.fullmatch(digits):
        raise ValueError(f"not a MAC address: {mac!r}")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def magic_packet(mac: str) -> bytes:
    """6 bytes of 0xFF, then the MAC's 6 bytes 16 times (102 bytes)."""
    raw = bytes.fromhex(normalise_mac(mac).replace(":", ""))
    return b"\xff" * 6 + raw * 16


def directed_broadcast(ip: str, netmask: str) -> str:
    """The broadcast address of the network ``ip``/``netmask`` is on (192.168.1.255)."""
    network = ipaddress.IPv4Network(f"{ip}/{netmask}", strict=False)
    return str(network.broadcast_address)


def same_subnet(ip: str, other_ip: str, netmask: str) -> bool:
    """Whether ``other_ip`` is on the network of ``ip``/``netmask``."""
    try:
        network = ipaddress.IPv4Network(f"{ip}/{netmask}", strict=False)
        return ipaddress.IPv4Address(other_ip) in network
    except ValueError:
        return False


def send_magic_packet(mac: str, address: str, port: int = WAKE_PORT) -> None:
    """Send the packet for ``mac`` as one UDP datagram to ``address:port`` (blocking; a
    broadcast address is allowed). Raises OSError when the network refuses it."""
    packet = magic_packet(mac)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sender.sendto(packet, (address, port))
