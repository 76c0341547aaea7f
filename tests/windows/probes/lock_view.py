"""The overlay's lock view on Windows CPython under Wine, placed as the user-session part
places it: over the virtual screen from GetSystemMetrics."""

from __future__ import annotations

import json
import tkinter as tk

from gameops.agent.desktop import windows_virtual_screen
from gameops.agent.overlay import Overlay

root = tk.Tk(className="gameops-overlay")
screen = windows_virtual_screen()
overlay = Overlay(root, "PC-WINE", screen)
overlay.render({"mode": "locked", "message": "virtual screen"})
root.update()
lock = overlay.lock
placed = [lock.winfo_rootx(), lock.winfo_rooty(), lock.winfo_width(), lock.winfo_height()]
print(
    json.dumps(
        {
            "virtual_screen": screen,
            "tk_screen": [root.winfo_screenwidth(), root.winfo_screenheight()],
            "lock": placed,
        }
    )
)
root.destroy()
