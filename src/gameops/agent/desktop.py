"""The user-session part: runs in the customer's desktop session, shows the overlay and
locks the workstation when the service part says so.

It connects to the service's local channel; a reader thread feeds a queue that Tk drains
on its own thread, so nothing here can block the service's network loop. If the service
goes away the overlay shows the lock view and keeps trying to reconnect: stopping the
service locks the station rather than freeing it. Only once the service that started it
has been gone for a while does it exit, so that a restarted service's new overlay is not
covered by an orphaned lock view.

Run by the service's supervisor: ``python -m gameops.agent.desktop --port P --station NAME
--service-pid PID`` with the channel secret in ``GAMEOPS_DESKTOP_SECRET``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .control import SystemControl, select_control
from .localwire import SECRET_ENV, USABLE_MODES, encode_line

if TYPE_CHECKING:
    from .control.keyboard import KeyboardBlocker

POLL_MS = 250  # views arrive once a second; polling faster only costs CPU
IDLE_SAMPLE_SECONDS = 10.0  # input-idle time is read here: it exists only in the user's session
RECONNECT_SECONDS = 1.0
ORPHAN_SECONDS = 15.0  # the service gone this long: it is not coming back for this overlay
HOLD_INPUT = "hold_input"  # from the lock thread to the window loop: no system lock here
LOCKED_VIEW = {"op": "view", "mode": "locked", "message": "Connecting to the agent service..."}
EXIT = {"op": "exit"}


def read_channel(
    port: int,
    secret: str,
    inbox: queue.Queue[dict[str, Any]],
    service_alive: Callable[[], bool] = lambda: True,
    orphan_seconds: float = ORPHAN_SECONDS,
    on_connection: Callable[[socket.socket | None], None] = lambda conn: None,
) -> None:
    """Connect, say hello, put every message in ``inbox``; lock when cut off, reconnect;
    give up (``EXIT``) once the service has been dead for ``orphan_seconds``."""
    dead_since: float | None = None
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.settimeout(None)
                conn.sendall(encode_line({"op": "hello", "secret": secret, "pid": os.getpid()}))
                on_connection(conn)
                for line in conn.makefile("rb"):
                    inbox.put(json.loads(line))
        except (OSError, ValueError):
            pass
        on_connection(None)
        inbox.put(LOCKED_VIEW)
        if service_alive():
            dead_since = None
        elif dead_since is None:
            dead_since = time.monotonic()
        elif time.monotonic() - dead_since >= orphan_seconds:
            inbox.put(EXIT)
            return
        time.sleep(RECONNECT_SECONDS)


def process_alive(pid: int) -> Callable[[], bool]:
    if pid <= 0:
        return lambda: True

    def alive() -> bool:
        import psutil  # only here: the overlay otherwise stays free of it

        return bool(psutil.pid_exists(pid))

    return alive


class DesktopPart:
    def __init__(
        self,
        station_name: str,
        control: SystemControl,
        blocker: KeyboardBlocker | None = None,
        language: str = "en",
    ) -> None:
        self.station_name = station_name
        self.language = language
        self.control = control
        self.blocker = blocker
        if blocker is not None:
            blocker.on_removed = self._hook_removed
        # Where the overlay's own reports go: the service, over the channel (in a process of
        # its own), or the agent's callback (InProcessOverlay).
        self.report: Callable[[dict[str, Any]], object] = self._tell_service
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.idle_seconds: float | None = None
        self._idle_sampled_at = -IDLE_SAMPLE_SECONDS
        self._service: socket.socket | None = None
        # In the agent's process: "Got it" clicks go here instead of over the channel.
        self.on_seen: Callable[[str], None] | None = None

    def run(self, port: int, secret: str, service_alive: Callable[[], bool]) -> None:
        """As its own process: the service's messages come over the local channel."""
        reader = threading.Thread(
            target=read_channel,
            args=(port, secret, self.inbox, service_alive),
            kwargs={"on_connection": self._connected},
            daemon=True,
        )
        self.show(on_shown=reader.start)

    def _connected(self, conn: socket.socket | None) -> None:
        self._service = conn

    def show(self, on_shown: Callable[[], None] = lambda: None) -> None:
        """Run the overlay on this thread until an ``EXIT`` arrives in :attr:`inbox`."""
        import tkinter as tk

        from .overlay import Overlay

        root = tk.Tk(className="gameops-overlay")
        # Login and logout from the customer go where the overlay's reports go.
        overlay = Overlay(
            root,
            self.station_name,
            windows_virtual_screen(),
            self.language,
            on_request=lambda request: self.report(request),
        )
        overlay.render(LOCKED_VIEW)
        on_shown()
        root.after(POLL_MS, self._drain, root, overlay)
        if self.blocker is not None:
            self.blocker.locked = True
            # On a thread of its own with its own message loop, never Tk's: Windows drops
            # a low-level hook whose thread answers late (control/keyboard.py).
            self.blocker.start()
        try:
            root.mainloop()
        finally:
            if self.blocker is not None:
                self.blocker.stop()

    def _hook_removed(self, count: int) -> None:
        """On the hook's thread: Windows had removed the keyboard hook (now re-installed)."""
        detail = "Windows removed the lock view's keyboard hook (it did not answer in time)"
        self.report({"op": "tamper", "kind": "keyboard_hook_removed", "detail": detail,
                     "count": count})  # fmt: skip

    def _drain(self, root: Any, overlay: Any) -> None:
        latest_view: dict[str, Any] | None = None
        while not self.inbox.empty():
            message = self.inbox.get_nowait()
            if message.get("op") == "view":
                latest_view = message  # only the newest view is worth drawing
            elif message.get("op") == "lock":
                threading.Thread(target=self._lock, daemon=True).start()
            elif message.get("op") == HOLD_INPUT:
                overlay.hold_input = True
            elif message.get("op") == "message":
                overlay.show_message(message, self._seen)
            elif message.get("op") == "ping":
                # Answered here, on the window loop's thread: a hung loop stops answering.
                self._tell_service({"op": "pong", "seq": message.get("seq")})
            elif message == EXIT:
                root.destroy()
                return
        self._sample_idle()
        if latest_view is not None:
            overlay.render(latest_view)
            if self.blocker is not None:
                self.blocker.locked = latest_view.get("mode") not in USABLE_MODES
        root.after(POLL_MS, self._drain, root, overlay)

    def _seen(self, command_id: str) -> None:
        if self.on_seen is not None:
            self.on_seen(command_id)
        else:
            self._tell_service({"op": "seen", "id": command_id})

    def _lock(self) -> None:
        """The system's lock; where there is none (no logind session, no screensaver), the
        lock view is the lock and holds the keyboard and pointer (an X11 global grab)."""
        self.control.lock_screen()
        if getattr(self.control, "system_lock_available", True) is False:
            self.inbox.put({"op": HOLD_INPUT})

    def _sample_idle(self) -> None:
        now = time.monotonic()
        if now - self._idle_sampled_at < IDLE_SAMPLE_SECONDS:
            return
        self._idle_sampled_at = now
        try:
            self.idle_seconds = self.control.idle_seconds()
        except Exception:  # a missing tool (xprintidle) costs the figure, not the overlay
            self.idle_seconds = None
            return
        if self.idle_seconds is not None:
            self._tell_service({"op": "idle", "seconds": round(self.idle_seconds)})

    def _tell_service(self, message: dict[str, Any]) -> None:
        service = self._service
        if service is not None:
            with contextlib.suppress(OSError):
                service.sendall(encode_line(message))


class InProcessOverlay:
    """The user-session part on a thread of the agent's own process, for an agent that runs
    in the user's session (``system.overlay: in_process``): one interpreter instead of two,
    about 13 MB less resident memory (docs/agent.md). Tk's loop runs on its own thread; the
    agent's event loop only puts messages in a queue, so the overlay never blocks the network.
    """

    def __init__(
        self,
        station_name: str,
        language: str,
        control: SystemControl,
        on_failure: Callable[[Exception], object],
        on_report: Callable[[dict[str, Any]], object] = lambda message: None,
    ) -> None:
        self.part = DesktopPart(station_name, control, windows_blocker(), language)
        self.part.report = on_report  # called on the overlay's threads
        self._on_failure = on_failure  # called on the overlay's thread
        self._thread = threading.Thread(target=self._show, name="agent-overlay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def showing(self) -> bool:
        return self._thread.is_alive()

    @property
    def idle_seconds(self) -> float | None:
        return self.part.idle_seconds

    def push(self, message: dict[str, Any]) -> None:
        self.part.inbox.put(message)

    async def close(self) -> None:
        import asyncio  # here: the separate overlay process never loads asyncio (and ssl)

        if self.showing:
            self.part.inbox.put(EXIT)
            await asyncio.to_thread(self._thread.join, 5)

    def _show(self) -> None:
        try:
            self.part.show()
        except Exception as err:  # no display, say: the agent locks through the system
            self._on_failure(err)


def windows_virtual_screen() -> tuple[int, int, int, int] | None:
    """On Windows, the rectangle around every monitor (Tk knows only the primary one)."""
    if os.name != "nt":
        return None
    from .control.win32 import virtual_screen

    return virtual_screen()


def windows_blocker() -> KeyboardBlocker | None:
    if os.name != "nt":
        return None
    from .control.keyboard import CtypesHookApi, KeyboardBlocker

    return KeyboardBlocker(CtypesHookApi())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="GameOps agent, user-session part (overlay).")
    parser.add_argument("--port", type=int, required=True, help="service channel port")
    parser.add_argument("--station", default="", help="station name to show")
    parser.add_argument("--control", default="auto", help="system control backend")
    parser.add_argument("--language", default="en", help="what the customer reads (en, de)")
    parser.add_argument("--service-pid", type=int, default=0, help="exit some time after it")
    args = parser.parse_args(argv)
    part = DesktopPart(args.station, select_control(args.control), windows_blocker(), args.language)
    part.run(args.port, os.environ.get(SECRET_ENV, ""), process_alive(args.service_pid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
