"""The kiosk overlay (Tkinter): a borderless, always-on-top timer in a corner while a session
runs, a banner counting down to the log-off during the grace period after it (the desktop
stays usable, to save work), and a full-screen lock view when there is no session.

It only renders what it is told (``render(view)``, a dict from the channel); it owns no
timing. Every Tk call happens on the thread that created the root.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from collections.abc import Callable
from typing import Any

from gameops.i18n import words_in

from .localwire import USABLE_MODES

BAND_COLOURS = {"green": "#1e8e3e", "orange": "#f57c00", "red": "#d32f2f"}
LOCK_BACKGROUND = "#111827"
TEXT_COLOUR = "#ffffff"
CORNER_SIZE = (280, 110)
CORNER_MARGIN = 12
# Top centre, narrower than the screen: a maximised window's menus (left) and buttons
# (right) stay uncovered, so the customer can still save.
BANNER_SIZE = (620, 100)
BANNER_BACKGROUND = BAND_COLOURS["red"]
# Keys a customer tries to get past the lock view with; Tk can swallow them while it has
# focus. What Tk cannot block (Ctrl+Alt+Del, Win+L) falls back to the system lock.
MESSAGE_SIZE = (520, 220)
MESSAGE_BACKGROUND = "#1f2937"
SWALLOWED_KEYS = ("<Alt-F4>", "<Alt-Tab>", "<Alt-Key>", "<Super_L>", "<Super_R>", "<Escape>")


def format_remaining(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


ScreenArea = tuple[int, int, int, int]  # x, y, width, height


def lock_geometry(area: ScreenArea) -> str:
    """A Tk geometry for ``area``. ``+-1920`` places a left edge 1920 pixels left of the
    primary monitor's; a bare ``-1920`` would measure from the right edge instead."""
    x, y, width, height = area
    return f"{width}x{height}+{x}+{y}"


class Overlay:
    def __init__(
        self,
        root: tk.Tk,
        station_name: str,
        screen: ScreenArea | None = None,
        language: str = "en",
    ) -> None:
        """``screen``: what the lock view covers; every monitor's rectangle (on Windows the
        virtual screen, from GetSystemMetrics), else Tk's screen, which on Windows is only
        the primary monitor (and on X the whole X screen, every monitor already).
        ``language``: the catalogue the customer reads."""
        self.words = words_in(language, only="overlay.")
        self.root = root
        self.station_name = station_name
        self.screen = screen or (0, 0, root.winfo_screenwidth(), root.winfo_screenheight())
        self.mode = ""
        # True where the system cannot lock (Linux without logind or a screensaver): the lock
        # view then grabs the keyboard and pointer for the whole display, not only for Tk.
        self.hold_input = False
        self._build_corner()
        self._build_banner()
        self._build_lock_view()
        self.messages: dict[str, tk.Toplevel] = {}  # staff messages on screen, by command id

    def _build_corner(self) -> None:
        root = self.root
        root.overrideredirect(True)
        root.attributes("-topmost", True)
        width, height = CORNER_SIZE
        x = root.winfo_screenwidth() - width - CORNER_MARGIN
        self.corner_geometry = f"{width}x{height}+{x}+{CORNER_MARGIN}"
        root.geometry(self.corner_geometry)
        root.configure(background=BAND_COLOURS["green"])
        self.corner = tk.Frame(root)
        self.corner_name = self._label(self.corner, self.station_name, 11)
        self.timer = self._label(self.corner, "--:--", 30, bold=True)
        self.corner_message = self._label(self.corner, "", 9)
        for label in (self.corner_name, self.timer, self.corner_message):
            label.pack(fill="x")
        self.corner.pack(fill="both", expand=True)

    def _build_banner(self) -> None:
        # The same top-most window as the corner timer, reshaped: it is already shown when a
        # session runs out, so nothing new is mapped and the customer's window keeps focus.
        width, height = BANNER_SIZE
        x = max(0, (self.root.winfo_screenwidth() - width) // 2)
        self.banner_geometry = f"{width}x{height}+{x}+0"
        self.banner = tk.Frame(self.root, background=BANNER_BACKGROUND)
        self.banner_title = self._label(
            self.banner, self.words("overlay.session_ended"), 13, bold=True
        )
        self.banner_countdown = self._label(self.banner, "", 18, bold=True)
        # Reserved for how to buy more time, once self-service exists (the view's "offer").
        self.banner_offer = self._label(self.banner, "", 11)
        for label in (self.banner_title, self.banner_countdown, self.banner_offer):
            label.configure(background=BANNER_BACKGROUND)
            label.pack(fill="both", expand=True)

    def _build_lock_view(self) -> None:
        lock = tk.Toplevel(self.root, background=LOCK_BACKGROUND)
        lock.overrideredirect(True)
        lock.attributes("-topmost", True)
        lock.geometry(lock_geometry(self.screen))
        lock.protocol("WM_DELETE_WINDOW", lambda: None)
        for key in SWALLOWED_KEYS:
            lock.bind(key, lambda event: "break")
        self.lock_title = self._label(lock, self.words("overlay.station_locked"), 44, bold=True)
        self.lock_name = self._label(lock, self.station_name, 20)
        self.lock_message = self._label(lock, "", 16)
        self.lock_title.place(relx=0.5, rely=0.40, anchor="center")
        self.lock_name.place(relx=0.5, rely=0.50, anchor="center")
        self.lock_message.place(relx=0.5, rely=0.58, anchor="center")
        self.lock = lock
        for label in (self.lock_title, self.lock_name, self.lock_message):
            label.configure(background=LOCK_BACKGROUND)

    def _label(self, parent: tk.Misc, text: str, size: int, bold: bool = False) -> tk.Label:
        font = ("Helvetica", size, "bold" if bold else "normal")
        return tk.Label(parent, text=text, font=font, foreground=TEXT_COLOUR)

    def render(self, view: dict[str, Any]) -> None:
        """Show ``view``: {"mode", "remaining", "band", "message"} as the service sent it."""
        mode = str(view.get("mode", "locked"))
        if mode == "session":
            self._show_timer(int(view.get("remaining") or 0), view.get("band"), view)
        elif mode == "grace":
            self._show_banner(view)
        else:  # "locked", or anything unknown: fail closed
            self._show_lock(str(view.get("message", "")))
        self.mode = mode
        for window in self.messages.values():
            window.lift()  # over the lock view, which re-asserts itself on every render

    def show_message(self, message: dict[str, Any], seen: Callable[[str], None]) -> None:
        """A staff message, top-most, until the customer clicks "Got it" (then ``seen``)."""
        command_id = str(message.get("id", ""))
        if not command_id or command_id in self.messages:
            return
        # A child of the lock view: its grab (while locked) still lets the button be clicked.
        window = tk.Toplevel(self.lock, background=MESSAGE_BACKGROUND)
        window.overrideredirect(True)
        window.attributes("-topmost", True)
        width, height = MESSAGE_SIZE
        offset = 30 * len(self.messages)
        x = max(0, (self.root.winfo_screenwidth() - width) // 2) + offset
        y = max(0, (self.root.winfo_screenheight() - height) // 3) + offset
        window.geometry(f"{width}x{height}+{x}+{y}")
        by = message.get("by")
        heading = (
            self.words("overlay.message_from", name=by)
            if by
            else self.words("overlay.message_from_staff")
        )
        title = self._label(window, heading, 13, True)
        text = self._label(window, str(message.get("text", "")), 16)
        text.configure(wraplength=width - 40)
        for label in (title, text):
            label.configure(background=MESSAGE_BACKGROUND)
            label.pack(fill="x", padx=20, pady=(14, 0))

        def got_it() -> None:
            self.messages.pop(command_id, None)
            window.destroy()
            seen(command_id)

        button = tk.Button(
            window,
            text=self.words("overlay.got_it"),
            font=("Helvetica", 14, "bold"),
            command=got_it,
        )
        button.pack(side="bottom", pady=16)
        self.messages[command_id] = window
        window.lift()

    def _show_timer(self, remaining: int, band: Any, view: dict[str, Any]) -> None:
        colour = BAND_COLOURS.get(str(band), BAND_COLOURS["red"])
        self.root.configure(background=colour)
        self.timer.configure(text=format_remaining(remaining))
        self.corner_message.configure(text=str(view.get("message", "")))
        for widget in (self.corner, self.corner_name, self.timer, self.corner_message):
            widget.configure(background=colour)
        self._show_root(self.corner, self.corner_geometry)

    def _show_banner(self, view: dict[str, Any]) -> None:
        """Top-most but not modal: no grab, no focus taken; the desktop stays usable."""
        self.banner_countdown.configure(text=str(view.get("message", "")))
        self.banner_offer.configure(text=str(view.get("offer", "")))
        self._show_root(self.banner, self.banner_geometry)

    def _show_root(self, frame: tk.Frame, geometry: str) -> None:
        """The corner timer or the banner, in the top-most root window (the lock view hidden)."""
        if not frame.winfo_manager():  # not packed yet
            for other in (self.corner, self.banner):
                other.pack_forget()
            frame.pack(fill="both", expand=True)
            self.root.geometry(geometry)
        if self.mode not in USABLE_MODES:
            self.lock.grab_release()
            self.lock.withdraw()
            self.root.deiconify()
        self.root.lift()

    def _show_lock(self, message: str) -> None:
        self.lock_message.configure(text=message)
        if self.mode == "" or self.mode in USABLE_MODES:
            self.root.withdraw()
            self.lock.deiconify()
        # Re-assert on every render: another window may have been raised over the lock.
        self.lock.lift()
        self.lock.focus_force()
        # Another application may hold the grab; lifting every second still covers it.
        with contextlib.suppress(tk.TclError):
            if self.hold_input:
                self.lock.grab_set_global()
            else:
                self.lock.grab_set()
