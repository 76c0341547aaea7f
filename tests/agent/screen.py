"""A virtual X display (Xvfb) and real screenshots of it (xwd), for overlay tests.

Needs the Debian packages ``xvfb`` (Xvfb) and ``x11-apps`` (xwd). Screenshots are decoded
here (XWD is a simple format) and can be saved as PNG to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

SCREEN = (1024, 768)
XWD_HEADER_FIELDS = 25


def require_display_tools() -> None:
    """Skip without Xvfb/xwd, except on CI (CI=true), where a missing tool is a failure."""
    missing = [tool for tool in ("Xvfb", "xwd") if shutil.which(tool) is None]
    if not missing:
        return
    reason = (
        f"{' and '.join(missing)} not installed: apt-get install xvfb x11-apps "
        "(needed for the overlay screenshot tests)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class VirtualDisplay:
    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        width, height = SCREEN
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
             "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as announced:
            number = announced.readline().strip()
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.name = f":{number}"

    def screenshot(self) -> Screenshot:
        raw = subprocess.run(
            ["xwd", "-root", "-silent", "-display", self.name],
            capture_output=True, check=True, timeout=10,
        ).stdout  # fmt: skip
        return Screenshot.from_xwd(raw)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(5)


@dataclass
class Screenshot:
    """A 24-bit TrueColor screen as xwd writes it (32 bits a pixel, blue byte first)."""

    width: int
    height: int
    bytes_per_line: int
    data: bytes

    @classmethod
    def from_xwd(cls, raw: bytes) -> Screenshot:
        header = struct.unpack(">25I", raw[: 4 * XWD_HEADER_FIELDS])
        header_size, width, height = header[0], header[4], header[5]
        byte_order, bits_per_pixel, bytes_per_line = header[7], header[11], header[12]
        masks, ncolors = header[14:17], header[19]
        if bits_per_pixel != 32 or masks != (0xFF0000, 0xFF00, 0xFF) or byte_order != 0:
            raise ValueError(f"unexpected screen layout: {bits_per_pixel} bpp, masks {masks}")
        return cls(width, height, bytes_per_line, raw[header_size + 12 * ncolors :])

    def pixel(self, x: int, y: int) -> str:
        offset = y * self.bytes_per_line + 4 * x
        blue, green, red = self.data[offset : offset + 3]
        return f"#{red:02x}{green:02x}{blue:02x}"

    def rgb_row(self, y: int) -> bytes:
        row = self.data[y * self.bytes_per_line : y * self.bytes_per_line + 4 * self.width]
        rgb = bytearray(3 * self.width)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[2::4], row[1::4], row[0::4]
        return bytes(rgb)

    def save_png(self, path: Path) -> None:
        rows = b"".join(b"\x00" + self.rgb_row(y) for y in range(self.height))

        def chunk(kind: bytes, body: bytes) -> bytes:
            checksum = zlib.crc32(kind + body) & 0xFFFFFFFF
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 6))
            + chunk(b"IEND", b"")
        )
