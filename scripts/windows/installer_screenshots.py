"""The installer's pages as docs/agent.md shows them: gameops-agent-setup.exe run under Wine
on a virtual X display (Xvfb), driven with xdotool, each page taken with ImageMagick's
``import -window root``. Needs wine, Xvfb, xdotool and imagemagick; the installer built
(``make windows-agent``). Writes docs/images/installer-*.png.

    python scripts/windows/installer_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "build" / "windows" / "gameops-agent-setup.exe"
IMAGES = ROOT / "docs" / "images"
DISPLAY = ":77"
EXAMPLE = {
    "server": "wss://gameops.venue.lan:8000",
    "station": "5a4c1b55-3f3c-4a51-9d0b-8f3b8d5b9b11",
    "token": "gat_" + "x" * 43,
}


def shot(env: dict[str, str], name: str) -> None:
    target = IMAGES / f"{name}.png"
    subprocess.run(["import", "-window", "root", str(target)], env=env, check=True)
    subprocess.run(["convert", str(target), "-trim", "+repage", str(target)], check=True)
    print(f"wrote {target.relative_to(ROOT)}")


def focus(env: dict[str, str]) -> None:
    """No window manager on Xvfb: give the installer's window the keyboard."""
    subprocess.run(
        ["xdotool", "search", "--name", "GameOps PC agent", "windowfocus", "--sync"],
        env=env, check=False, capture_output=True, timeout=10,
    )  # fmt: skip


def key(env: dict[str, str], *keys: str) -> None:
    focus(env)
    subprocess.run(["xdotool", "key", "--delay", "100", *keys], env=env, check=True)


def click(
    env: dict[str, str], right: int | None, bottom: int | None, left: int = 0, top: int = 0
) -> None:
    """Click in the installer's window: from its bottom-right corner, or its top-left."""
    found = subprocess.run(
        ["xdotool", "search", "--name", "GameOps PC agent", "getwindowgeometry", "--shell"],
        env=env, check=True, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    geometry = dict(line.split("=", 1) for line in found.stdout.split() if "=" in line)
    x, y = int(geometry["X"]), int(geometry["Y"])
    x += int(geometry["WIDTH"]) - right if right is not None else left
    y += int(geometry["HEIGHT"]) - bottom if bottom is not None else top
    subprocess.run(
        ["xdotool", "mousemove", str(x), str(y), "sleep", "0.5", "click", "1"],
        env=env, check=True,
    )  # fmt: skip


def type_text(env: dict[str, str], text: str) -> None:
    subprocess.run(["xdotool", "type", "--delay", "20", text], env=env, check=True)


def main() -> int:
    for tool in ("wine", "Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing", file=sys.stderr)
            return 2
    if not SETUP.exists():
        print(f"{SETUP} is missing: make windows-agent", file=sys.stderr)
        return 2
    IMAGES.mkdir(parents=True, exist_ok=True)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "800x600x24", "-nolisten", "tcp"])
    prefix = Path(tempfile.mkdtemp(prefix="gameops-screens-"))
    env = {
        **os.environ,
        "DISPLAY": DISPLAY,
        "WINEPREFIX": str(prefix),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": "mscoree,mshtml=",
    }
    try:
        subprocess.run(["wine", "wineboot", "--init"], env=env, check=True, capture_output=True)
        setup = subprocess.Popen(["wine", str(SETUP)], env=env, stdout=subprocess.PIPE)
        time.sleep(12)  # the window maps; nothing to poll that says it has drawn
        shot(env, "installer-welcome")
        click(env, right=147, bottom=21)  # Next
        time.sleep(4)
        for field, top in (("server", 94), ("station", 136), ("token", 178)):
            click(env, None, None, left=249, top=top)
            type_text(env, EXAMPLE[field])
        time.sleep(1)
        shot(env, "installer-settings")
        setup.terminate()  # not installed: the example server does not exist
        setup.wait(10)
    finally:
        subprocess.run(["wineserver", "-k"], env=env, check=False)
        xvfb.terminate()
        xvfb.wait(10)
        shutil.rmtree(prefix, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
