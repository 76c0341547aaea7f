"""A virtual X display (Xvfb) and real screenshots of it, for overlay tests.

Needs the Debian package ``xvfb``. Screenshots are read from the X server with XGetImage
through libX11 (present wherever Tk runs), the same request ``xwd`` makes, so no other
tool is needed; they can be saved as PNG to look at. Tests that type and click, as a
customer would, also need ``xdotool``.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

SCREEN = (1024, 768)
ARTIFACTS = Path(os.environ.get("GAMEOPS_SCREENSHOTS", "build/screenshots"))
Z_PIXMAP = 2
ALL_PLANES = 0xFFFFFFFF


def require_display_tools(*, input_too: bool = False) -> None:
    """Skip without Xvfb or libX11 (or xdotool, for ``input_too``), except on CI
    (CI=true), where that is a failure."""
    missing = []
    if shutil.which("Xvfb") is None:
        missing.append("Xvfb (apt-get install xvfb)")
    if ctypes.util.find_library("X11") is None:
        missing.append("libX11 (apt-get install libx11-6)")
    if input_too and shutil.which("xdotool") is None:
        missing.append("xdotool (apt-get install xdotool)")
    if not missing:
        return
    reason = f"{' and '.join(missing)} missing: needed for the overlay screenshot tests"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class _XImage(ctypes.Structure):
    # The leading fields of Xlib's XImage; only read through a pointer Xlib allocated.
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
        ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong),
        ("blue_mask", ctypes.c_ulong),
    ]  # fmt: skip


def _xlib() -> ctypes.CDLL:
    xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XGetImage.restype = ctypes.POINTER(_XImage)
    xlib.XGetImage.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int,
    ]  # fmt: skip
    xlib.XDestroyImage.argtypes = [ctypes.POINTER(_XImage)]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return xlib


def grab_screen(display_name: str) -> Screenshot:
    """The whole root window of ``display_name``, as the X server has it now."""
    xlib = _xlib()
    display = xlib.XOpenDisplay(display_name.encode())
    if not display:
        raise RuntimeError(f"cannot open X display {display_name}")
    try:
        root = xlib.XDefaultRootWindow(display)
        width, height = SCREEN
        image_pointer = xlib.XGetImage(display, root, 0, 0, width, height, ALL_PLANES, Z_PIXMAP)
        image = image_pointer.contents
        try:
            masks = (image.red_mask, image.green_mask, image.blue_mask)
            if image.bits_per_pixel != 32 or masks != (0xFF0000, 0xFF00, 0xFF):
                raise ValueError(f"unexpected screen layout: {image.bits_per_pixel} bpp {masks}")
            data = ctypes.string_at(image.data, image.bytes_per_line * image.height)
            return Screenshot(image.width, image.height, image.bytes_per_line, data)
        finally:
            xlib.XDestroyImage(image_pointer)
    finally:
        xlib.XCloseDisplay(display)


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
        return grab_screen(self.name)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(5)


@dataclass
class Screenshot:
    """A 24-bit TrueColor screen in Xlib's layout: 32 bits a pixel, blue byte first."""

    width: int
    height: int
    bytes_per_line: int
    data: bytes

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


def save(shot: Screenshot, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot.save_png(ARTIFACTS / f"{name}.png")


async def wait_for_colour(
    display: VirtualDisplay, point: tuple[int, int], colour: str, name: str
) -> Screenshot:
    """Screenshots until ``point`` shows ``colour`` (5 s at most); saves the last as PNG."""
    shot = await asyncio.to_thread(display.screenshot)
    for _ in range(50):
        if shot.pixel(*point) == colour:
            break
        await asyncio.sleep(0.1)
        shot = await asyncio.to_thread(display.screenshot)
    await asyncio.to_thread(save, shot, name)
    assert shot.pixel(*point) == colour, f"{name}: {shot.pixel(*point)} at {point}"
    return shot


async def xdotool(display: VirtualDisplay, *args: str) -> None:
    """A customer's mouse and keys on ``display``, through the X server (XTEST)."""
    process = await asyncio.create_subprocess_exec(
        "xdotool", *args, env={**os.environ, "DISPLAY": display.name}
    )
    assert await process.wait() == 0


async def click_and_type(display: VirtualDisplay, point: tuple[int, int], text: str = "") -> None:
    """A click at ``point``, then keystrokes."""
    x, y = point
    # No "mousemove --sync": it waits 15 s when the pointer is already there. The X server
    # takes XTEST's events in order, so the click lands where the pointer was moved.
    await xdotool(display, "mousemove", str(x), str(y), "click", "1", "type", text)
