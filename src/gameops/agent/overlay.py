"""The kiosk overlay (Tkinter): a borderless, always-on-top timer in a corner while a session
runs, a banner counting down to the log-off during the grace period after it (the desktop
stays usable, to save work), and a full-screen lock view when there is no session.

The lock view is also the login view (self-service): username or card and PIN, or a guest
ticket code, with the station, the venue and the prices here now. What is typed goes to the
service (``on_request``) and the secret field is cleared at once; nothing is kept here. A
pay-as-you-go session's corner shows the balance and a "Log out" button.

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
CORNER_SIZE = (280, 140)
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
FORM_BACKGROUND = "#1f2937"
PAY_AS_YOU_GO = "Pay as you go"
LOGIN_FONT = ("Helvetica", 14)
Request = Callable[[dict[str, Any]], object]


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
        on_request: Request | None = None,
    ) -> None:
        """``screen``: what the lock view covers; every monitor's rectangle (on Windows the
        virtual screen, from GetSystemMetrics), else Tk's screen, which on Windows is only
        the primary monitor (and on X the whole X screen, every monitor already).
        ``language``: the catalogue the customer reads. ``on_request``: where the
        customer's login and logout go."""
        self.words = words_in(language, only="overlay.")
        self.root = root
        self.station_name = station_name
        self.screen = screen or (0, 0, root.winfo_screenwidth(), root.winfo_screenheight())
        self.on_request: Request = on_request or (lambda _: None)
        self.mode = ""
        # True where the system cannot lock (Linux without logind or a screensaver): the lock
        # view then grabs the keyboard and pointer for the whole display, not only for Tk.
        self.hold_input = False
        self._build_corner()
        self._build_banner()
        self._build_lock_view()
        self._build_login_form()
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
        # Pay-as-you-go: the balance left and the way out (packed only for such a session).
        self.corner_wallet = tk.Frame(self.corner)
        self.wallet_label = self._label(self.corner_wallet, "", 10, bold=True)
        self.wallet_label.pack(side="left", padx=6)
        self.logout_button = tk.Button(
            self.corner_wallet, text="Log out", command=self._log_out, takefocus=False
        )
        self.logout_button.pack(side="right", padx=6)
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
        # How to play on: log in here, or see the desk (the view's "offer").
        self.banner_offer = self._label(self.banner, "", 11)
        self.banner_offer.configure(wraplength=width - 20)
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
        self.lock_title.place(relx=0.5, rely=0.30, anchor="center")
        self.lock_name.place(relx=0.5, rely=0.38, anchor="center")
        self.lock_message.place(relx=0.5, rely=0.45, anchor="center")
        self.lock = lock
        for label in (self.lock_title, self.lock_name, self.lock_message):
            label.configure(background=LOCK_BACKGROUND)

    def _build_login_form(self) -> None:
        form = tk.Frame(self.lock, background=FORM_BACKGROUND, padx=20, pady=12)
        self.login_venue = self._label(form, "", 16, bold=True)
        self.login_prices = self._label(form, "", 12)
        self.login_reserved = self._label(form, "", 14, bold=True)
        self.login_reserved.configure(foreground="#fbbf24")
        self.username = self._entry(form)
        self.secret = self._entry(form, show="*")
        self.ticket = self._entry(form)
        # What a member buys: pay as you go, or one of the packages sold here now.
        self.package = tk.StringVar(value=PAY_AS_YOU_GO)
        self.package_menu = tk.OptionMenu(form, self.package, PAY_AS_YOU_GO)
        self.package_menu.configure(font=("Helvetica", 12), takefocus=False)
        self._package_names: dict[str, str] = {}  # what the menu says -> the package's name
        self.login_button = tk.Button(form, text="Log in", command=self._log_in, font=LOGIN_FONT)
        self.login_feedback = self._label(form, "", 12)
        self.login_feedback.configure(foreground="#fbbf24", wraplength=300)
        rows: list[tuple[str, tk.Widget]] = [
            ("Username or card", self.username),
            ("PIN or password", self.secret),
            ("Guest ticket", self.ticket),
        ]
        # One narrow column, captions above fields: the form stays in the screen's middle.
        self.login_venue.pack(pady=(0, 2))
        self.login_prices.pack(pady=(0, 8))
        captions = []
        for text, entry in rows:
            caption = self._label(form, text, 11)
            caption.configure(background=FORM_BACKGROUND)
            caption.pack(anchor="w")
            entry.pack(fill="x", pady=(0, 6))
            captions.append(caption)
        self._first_caption = captions[0]  # the booking notice goes above, when there is one
        self.package_menu.pack(fill="x", pady=(2, 0))
        self.login_button.pack(pady=(8, 4))
        self.login_feedback.pack()
        for label in (
            self.login_venue,
            self.login_prices,
            self.login_reserved,
            self.login_feedback,
        ):
            label.configure(background=FORM_BACKGROUND)
        for entry in (self.username, self.secret, self.ticket):
            entry.bind("<Return>", lambda event: self._log_in())
        self.login_form = form

    def _show_packages(self, offers: list[tuple[str, str]]) -> None:
        names = {text: name for name, text in offers}
        if names == self._package_names:
            return
        self._package_names = names
        menu = self.package_menu["menu"]
        menu.delete(0, "end")
        for label in (PAY_AS_YOU_GO, *names):
            menu.add_command(label=label, command=lambda value=label: self.package.set(value))
        if self.package.get() not in names:
            self.package.set(PAY_AS_YOU_GO)

    def _show_reserved(self, text: str) -> None:
        """The booking notice ("Reserved for Ada at 18:00") above the fields; no room is taken
        when the PC is free."""
        if text == str(self.login_reserved.cget("text")):
            return
        self.login_reserved.configure(text=text)
        if text:
            self.login_reserved.pack(pady=(0, 8), before=self._first_caption)
        else:
            self.login_reserved.pack_forget()

    def _entry(self, parent: tk.Misc, show: str = "") -> tk.Entry:
        return tk.Entry(parent, font=LOGIN_FONT, width=20, show=show)

    def _log_in(self) -> None:
        if str(self.login_button.cget("state")) == "disabled":
            return
        request = {
            "op": "login",
            "username": self.username.get(),
            "secret": self.secret.get(),
            "ticket": self.ticket.get(),
            "package": self._package_names.get(self.package.get(), ""),
        }
        # Nothing typed stays on screen or in memory here longer than the click.
        self.secret.delete(0, "end")
        self.ticket.delete(0, "end")
        self.on_request(request)

    def _log_out(self) -> None:
        self.on_request({"op": "logout"})

    def _show_login(self, login: dict[str, Any] | None) -> None:
        if not login:
            self.login_form.place_forget()
            return
        venue = str(login.get("venue") or "")
        station = str(login.get("station") or self.station_name)
        self.login_venue.configure(text=f"{venue} · {station}" if venue else station)
        self.login_prices.configure(text="   ".join(str(p) for p in login.get("prices") or []))
        self._show_packages([(str(n), str(t)) for n, t in login.get("packages") or []])
        self._show_reserved(str(login.get("reserved") or ""))
        wait = int(login.get("wait_seconds") or 0)
        feedback = str(login.get("message") or "")
        if not login.get("online", True):
            feedback = "A new login needs the server. Please wait, or see the front desk."
        elif wait:
            feedback = (
                f"{feedback}\nPlease wait {wait} s." if feedback else f"Please wait {wait} s."
            )
        self.login_feedback.configure(text=feedback)
        usable = login.get("online", True) and not wait
        self.login_button.configure(state="normal" if usable else "disabled")
        self.lock_title.configure(text="Welcome" if venue else "Station locked")
        self.login_form.place(relx=0.5, rely=0.49, anchor="n")

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
            self._show_login(view.get("login"))
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
        wallet = str(view.get("wallet") or "")
        if wallet:
            self.wallet_label.configure(text=f"Balance {wallet}", background=colour)
            self.corner_wallet.configure(background=colour)
            if not self.corner_wallet.winfo_manager():
                self.corner_wallet.pack(fill="x")
        elif self.corner_wallet.winfo_manager():
            self.corner_wallet.pack_forget()
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
        if self.lock.focus_get() is None:  # not while the customer types in the login form
            self.lock.focus_force()
        # Another application may hold the grab; lifting every second still covers it.
        with contextlib.suppress(tk.TclError):
            if self.hold_input:
                self.lock.grab_set_global()
            else:
                self.lock.grab_set()
