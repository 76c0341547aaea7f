"""WindowsControl.notify's MessageBoxW on Windows CPython under Wine: the box is shown off
the calling thread; the test presses Enter on it, as a customer clicks OK."""

from __future__ import annotations

import json
import sys

from gameops.agent.control import win32
from gameops.agent.control.windows import NOTIFY_FLAGS, WindowsControl

api = win32.CtypesWin32()
answers: list[int] = []


class Recording(win32.CtypesWin32):
    def MessageBoxW(self, hwnd: int, text: str, caption: str, flags: int) -> int:  # noqa: N802
        answers.append(super().MessageBoxW(hwnd, text, caption, flags))
        return answers[-1]


control = WindowsControl(Recording())
control.notify("GameOps Wine", "Time added!")
thread = control.last_notification
assert thread is not None
print(json.dumps({"shown": thread.is_alive(), "flags": NOTIFY_FLAGS}), flush=True)
thread.join(60)
print(json.dumps({"closed": not thread.is_alive(), "answer": answers}), flush=True)
sys.exit(0)
