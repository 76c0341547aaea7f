"""The venue lockdown policies: what the installer sets and how the uninstaller puts each
value back as it found it. The registry here is a dict; the real one is written under Wine
by tests/windows/test_installer.py."""

from __future__ import annotations

from gameops.agent.lockdown import POLICIES, apply, revert


class DictRegistry:
    def __init__(self, values: dict[tuple[str, str, str], int] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, root: str, key: str, name: str) -> int | None:
        return self.values.get((root, key, name))

    def set(self, root: str, key: str, name: str, value: int) -> None:
        self.values[(root, key, name)] = value

    def delete(self, root: str, key: str, name: str) -> None:
        self.values.pop((root, key, name), None)


USER = r"HKU\S-1-5-21-1-2-3-1001"


def test_the_customer_gets_the_user_policies_and_the_machine_the_machine_ones() -> None:
    registry = DictRegistry()
    apply(registry, USER)
    names = {(root, name): value for (root, _, name), value in registry.values.items()}
    assert names == {
        (USER, "DisableTaskMgr"): 1,
        (USER, "DisableLockWorkstation"): 1,
        (USER, "DisableChangePassword"): 1,
        (USER, "DisableRegistryTools"): 1,
        (USER, "DisableCMD"): 2,
        ("HKLM", "HideFastUserSwitching"): 1,
    }


def test_revert_puts_back_what_was_there_and_removes_what_was_not() -> None:
    [task_manager] = [p for p in POLICIES if p.name == "DisableTaskMgr"]
    [switching] = [p for p in POLICIES if p.name == "HideFastUserSwitching"]
    before = {
        (USER, task_manager.key, "DisableTaskMgr"): 0,  # the venue had set it to 0
        ("HKLM", switching.key, "HideFastUserSwitching"): 1,  # already hidden by the venue
        (USER, task_manager.key, "SomethingElse"): 7,
    }
    registry = DictRegistry(before)
    changes = apply(registry, USER)
    assert registry.values != before
    revert(registry, changes)
    assert registry.values == before
