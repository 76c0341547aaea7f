"""The venue lockdown policies the Windows installer applies for the customer account, and
takes back on uninstall: the ways out of the overlay that Ctrl+Alt+Del offers (Task Manager,
lock, switch user, change password) and the tools to undo the rest (registry editor,
command prompt). docs/agent.md lists them and how to undo them by hand.

``python -m gameops.agent.lockdown apply --record FILE [--customer ACCOUNT]`` sets them
(the customer's own policies in that account's registry hive; without ``--customer``, the
account running the installer's), keeping each value it replaced in ``FILE``;
``revert --record FILE`` puts every value back as it was. The registry is reached through
the standard library's ``winreg``; the account's SID through pywin32.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SYSTEM_POLICIES = r"Software\Microsoft\Windows\CurrentVersion\Policies\System"
WINDOWS_SYSTEM_POLICIES = r"Software\Policies\Microsoft\Windows\System"
LOADED_HIVE = "GameOpsCustomer"  # where a customer hive not loaded yet is loaded


@dataclass(frozen=True)
class Policy:
    scope: str  # "user": the customer account's hive; "machine": HKLM
    key: str
    name: str
    value: int
    what: str


POLICIES = (
    Policy("user", SYSTEM_POLICIES, "DisableTaskMgr", 1,
           "Task Manager does not open (Ctrl+Alt+Del, Ctrl+Shift+Esc): no ending the overlay"),
    Policy("user", SYSTEM_POLICIES, "DisableLockWorkstation", 1,
           "no Lock (Ctrl+Alt+Del, Win+L): the customer cannot hide the session behind it"),
    Policy("user", SYSTEM_POLICIES, "DisableChangePassword", 1,
           "no Change a password: the venue's account keeps its password"),
    Policy("user", SYSTEM_POLICIES, "DisableRegistryTools", 1,
           "Registry Editor does not open: these policies cannot be undone from it"),
    Policy("user", WINDOWS_SYSTEM_POLICIES, "DisableCMD", 2,
           "no command prompt (batch files still run)"),
    Policy("machine", SYSTEM_POLICIES.replace("Software", "SOFTWARE"), "HideFastUserSwitching", 1,
           "no Switch user: the customer cannot leave the overlay's session running"),
)  # fmt: skip


class Registry(Protocol):
    def get(self, root: str, key: str, name: str) -> int | None: ...

    def set(self, root: str, key: str, name: str, value: int) -> None: ...

    def delete(self, root: str, key: str, name: str) -> None: ...


def apply(registry: Registry, user_root: str) -> list[dict[str, Any]]:
    """Set every policy; what each replaced (``None``: there was no value), to revert."""
    changes = []
    for policy in POLICIES:
        root = user_root if policy.scope == "user" else "HKLM"
        previous = registry.get(root, policy.key, policy.name)
        registry.set(root, policy.key, policy.name, policy.value)
        changes.append({"root": root, "key": policy.key, "name": policy.name, "previous": previous})
    return changes


def revert(registry: Registry, changes: list[dict[str, Any]]) -> None:
    """Put back what :func:`apply` replaced, last change first."""
    for change in reversed(changes):
        root, key, name = change["root"], change["key"], change["name"]
        if change["previous"] is None:
            registry.delete(root, key, name)
        else:
            registry.set(root, key, name, int(change["previous"]))


def _winreg() -> Any:
    """The standard library's ``winreg`` (Windows only; typed for Windows, checked here on
    Linux)."""
    return importlib.import_module("winreg")


class WinRegistry:
    """``root``: ``HKLM`` or ``HKU\\<SID or loaded hive>``."""

    def _open(self, root: str, key: str, write: bool) -> Any:
        winreg = _winreg()

        hive, _, sub = root.partition("\\")
        base = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKU": winreg.HKEY_USERS}[hive]
        path = f"{sub}\\{key}" if sub else key
        access = winreg.KEY_ALL_ACCESS if write else winreg.KEY_READ
        if write:
            return winreg.CreateKeyEx(base, path, 0, access | winreg.KEY_WOW64_64KEY)
        return winreg.OpenKeyEx(base, path, 0, access | winreg.KEY_WOW64_64KEY)

    def get(self, root: str, key: str, name: str) -> int | None:
        winreg = _winreg()

        try:
            with self._open(root, key, write=False) as handle:
                value, kind = winreg.QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
        return int(value) if kind == winreg.REG_DWORD else None

    def set(self, root: str, key: str, name: str, value: int) -> None:
        winreg = _winreg()

        with self._open(root, key, write=True) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_DWORD, value)

    def delete(self, root: str, key: str, name: str) -> None:
        winreg = _winreg()

        try:
            with self._open(root, key, write=True) as handle:
                winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            pass


def customer_root(account: str | None) -> tuple[str, bool]:
    """``HKU\\<SID>`` of the account (its hive loaded from its profile when it is not logged
    on; then True), or of the account running this."""
    import win32api
    import win32security

    name = account or win32api.GetUserName()
    sid = win32security.ConvertSidToStringSid(win32security.LookupAccountName(None, name)[0])
    if _hive_loaded(sid):
        return f"HKU\\{sid}", False
    profile = _profile_path(sid)
    hive = Path(profile) / "NTUSER.DAT"
    subprocess.run(["reg", "load", f"HKU\\{LOADED_HIVE}", str(hive)], check=True)
    return f"HKU\\{LOADED_HIVE}", True


def _hive_loaded(sid: str) -> bool:
    winreg = _winreg()

    try:
        winreg.OpenKey(winreg.HKEY_USERS, sid).Close()
    except FileNotFoundError:
        return False
    return True


def _profile_path(sid: str) -> str:
    winreg = _winreg()

    key = rf"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\{sid}"
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
        path: str = winreg.ExpandEnvironmentStrings(
            winreg.QueryValueEx(handle, "ProfileImagePath")[0]
        )
    return path


def _unload(loaded: bool) -> None:
    if loaded:
        subprocess.run(["reg", "unload", f"HKU\\{LOADED_HIVE}"], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gameops.agent.lockdown")
    commands = parser.add_subparsers(dest="command", required=True)
    applying = commands.add_parser("apply")
    applying.add_argument("--record", type=Path, required=True)
    applying.add_argument("--customer")
    reverting = commands.add_parser("revert")
    reverting.add_argument("--record", type=Path, required=True)
    args = parser.parse_args(argv)
    registry = WinRegistry()
    if args.command == "apply":
        if args.record.exists():  # applied before (an update): keep the first record
            print(f"lockdown already applied ({args.record})")
            return 0
        root, loaded = customer_root(args.customer)
        try:
            changes = apply(registry, root)
        finally:
            _unload(loaded)
        record = {"customer": args.customer, "user_root": root, "changes": changes}
        args.record.write_text(json.dumps(record, indent=1), encoding="utf-8")
        for policy in POLICIES:
            print(f"set {policy.scope} {policy.name}={policy.value}: {policy.what}")
        return 0
    try:
        record = json.loads(args.record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"nothing to revert ({args.record} is missing)")
        return 0
    root, loaded = (
        customer_root(record["customer"]) if record["customer"] else (record["user_root"], False)
    )
    try:
        changes = [
            {**change, "root": root if change["root"] != "HKLM" else "HKLM"}
            for change in record["changes"]
        ]
        revert(registry, changes)
    finally:
        _unload(loaded)
    args.record.unlink()
    print(f"reverted {len(record['changes'])} policies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
