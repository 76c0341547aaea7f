"""Build gameops-agent-setup.exe on Linux (``make windows-agent``).

Stages what the installer ships under build/windows/stage/ and runs Debian's makensis on
scripts/windows/installer.nsi:

- the Windows CPython with the agent's Windows wheels in its site-packages, as
  ``scripts/windows/prepare.py`` leaves them in build/windows/python/ (run first; the make
  target does), less what a PC never runs (pip, build tools, the test suite, headers);
- the agent: the ``gameops`` package's ``agent``, ``protocol`` and ``i18n`` parts (never the server).

Output: build/windows/gameops-agent-setup.exe. Exit code 2 when a prerequisite is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "windows"
NSI = Path(__file__).with_name("installer.nsi")
# Not shipped: what installs or builds packages, and what no PC runs.
SITE_LEFT_OUT = (
    "pip", "setuptools", "build", "packaging", "pyproject_hooks", "colorama",
    "_distutils_hack", "pkg_resources", "distutils-precedence.pth", "wheel",
    "PyWin32.chm", "pythonwin", "adodbapi", "isapi", "win32comext", "win32com",
)  # fmt: skip
PYTHON_LEFT_OUT = ("include", "libs", "Scripts", "NEWS.txt")
LIB_LEFT_OUT = ("test", "idlelib", "ensurepip", "turtledemo", "lib2to3", "pydoc_data")
# Tcl's time zone files, Tk's demos and their images: 700 of the 2,200 files, unused by the
# overlay (and every file costs install time).
TCL_LEFT_OUT = ("tcl8.6/tzdata", "tk8.6/demos", "tk8.6/images", "nmake")
AGENT_PARTS = ("__init__.py", "py.typed", "agent", "protocol", "i18n")  # what the agent imports


def stage(python: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(python, target / "python")  # with the standard library's compiled files
    staged = target / "python"
    for name in PYTHON_LEFT_OUT:
        _remove(staged / name)
    for name in LIB_LEFT_OUT:
        _remove(staged / "Lib" / name)
    for name in TCL_LEFT_OUT:
        _remove(staged / "tcl" / name)
    site = staged / "Lib" / "site-packages"
    for pattern in SITE_LEFT_OUT:
        for path in site.glob(pattern):
            _remove(path)
        for path in site.glob(f"{pattern}-*.dist-info"):
            _remove(path)
    for cache in list(site.rglob("__pycache__")):  # compiled here, by another Python:
        shutil.rmtree(cache)  # the installer compiles site-packages on the PC
    package = ROOT / "src" / "gameops"
    for part in AGENT_PARTS:
        source = package / part
        if source.is_dir():
            shutil.copytree(source, site / "gameops" / part, ignore=ignore)
        else:
            (site / "gameops").mkdir(exist_ok=True)
            shutil.copy2(source, site / "gameops" / part)
    shutil.copy2(python / "LICENSE.txt", target / "LICENSE.txt")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def version() -> str:
    from importlib.metadata import version as installed

    return installed("gameops")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", type=Path, default=BUILD / "python")
    parser.add_argument("--out", type=Path, default=BUILD / "gameops-agent-setup.exe")
    args = parser.parse_args()
    if not (args.python / "python.exe").exists():
        print(
            f"{args.python / 'python.exe'} is missing: run scripts/windows/prepare.py first",
            file=sys.stderr,
        )
        return 2
    if not (args.python / "Lib" / "site-packages" / "win32").exists():
        print(f"pywin32 is not in {args.python}: run scripts/windows/prepare.py", file=sys.stderr)
        return 2
    makensis = shutil.which("makensis")
    if makensis is None:
        print("makensis is missing: apt-get install nsis", file=sys.stderr)
        return 2
    staging = BUILD / "stage"
    stage(args.python, staging)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        makensis, "-V2", "-INPUTCHARSET", "UTF8",
        f"-DSTAGE={staging}", f"-DOUTFILE={args.out.resolve()}", f"-DVERSION={version()}",
        str(NSI),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    size = args.out.stat().st_size / 1e6
    print(f"built {args.out} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
