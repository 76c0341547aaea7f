"""The user-session part's real overlay (Tk lock view) and its low-level keyboard hook on
Windows CPython under Wine. Commands on stdin, one a line: ``status`` prints the hook's
counters as JSON; ``remove`` unhooks the current hook from outside its thread, as Windows
does to a hook that answered too late; ``exit`` closes the overlay."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from gameops.agent.control import select_control, win32
from gameops.agent.desktop import EXIT, DesktopPart, windows_blocker

reports: list[dict[str, Any]] = []
blocker = windows_blocker()
assert blocker is not None
blocker.check_seconds = 0.5
part = DesktopPart("PC-WINE", select_control("windows"), blocker)
part.report = reports.append
window_thread = win32.functions().GetCurrentThreadId()
keys: list[list[int]] = []  # [vk, wParam (0x100 down, 0x101 up, 0x104/0x105 with Alt), result]
hook_proc = blocker.on_key


def on_key(n_code: int, w_param: int, l_param: int) -> int:
    result = hook_proc(n_code, w_param, l_param)
    keys.append([blocker.api.read_key(l_param)[0], w_param, result])
    return result


blocker.on_key = on_key  # type: ignore[method-assign]


def status() -> dict[str, Any]:
    return {
        "hook": blocker.hook,
        "hook_thread": getattr(blocker, "_thread_id", None),
        "window_thread": window_thread,
        "locked": blocker.locked,
        "seen": blocker.seen,
        "swallowed": blocker.swallowed,
        "reinstalls": blocker.reinstalls,
        "removals": blocker.removals,
        "reports": list(reports),
        "keys": list(keys),
    }


def commands() -> None:
    for line in sys.stdin:
        command = line.strip()
        if command == "status":
            print(json.dumps(status()), flush=True)
        elif command == "remove" and blocker.hook is not None:
            removed = win32.functions().UnhookWindowsHookEx(blocker.hook)
            print(json.dumps({"removed": bool(removed)}), flush=True)
        elif command == "exit":
            part.inbox.put(EXIT)
            return


threading.Thread(target=commands, daemon=True).start()
part.show()
print(json.dumps({"closed": True, **status()}), flush=True)
