"""The user-session part: runs in the customer's desktop session, shows the overlay and
locks the workstation when the service part says so.

It connects to the service's local channel; a reader thread feeds a queue that Tk drains
on its own thread, so nothing here can block the service's network loop. If the service
goes away the overlay shows the lock view and keeps trying to reconnect: stopping the
service locks the station rather than freeing it.

Run by the service's supervisor: ``python -m gameops.agent.desktop --port P --station NAME``
with the channel secret in ``GAMEOPS_DESKTOP_SECRET``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from .control import SystemControl, select_control

if TYPE_CHECKING:
    from .control.keyboard import KeyboardBlocker
from .localwire import SECRET_ENV, encode_line

POLL_MS = 250  # views arrive once a second; polling faster only costs CPU
RECONNECT_SECONDS = 1.0
LOCKED_VIEW = {"op": "view", "mode": "locked", "message": "Connecting to the agent service..."}


def read_channel(port: int, secret: str, inbox: queue.Queue[dict[str, Any]]) -> None:
    """Forever: connect, say hello, put every message in ``inbox``; lock if cut off."""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.settimeout(None)
                conn.sendall(encode_line({"op": "hello", "secret": secret, "pid": os.getpid()}))
                for line in conn.makefile("rb"):
                    inbox.put(json.loads(line))
        except (OSError, ValueError):
            pass
        inbox.put(LOCKED_VIEW)
        time.sleep(RECONNECT_SECONDS)


class DesktopPart:
    def __init__(
        self, station_name: str, control: SystemControl, blocker: KeyboardBlocker | None = None
    ) -> None:
        self.station_name = station_name
        self.control = control
        self.blocker = blocker
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()

    def run(self, port: int, secret: str) -> None:
        import tkinter as tk

        from .overlay import Overlay

        root = tk.Tk(className="gameops-overlay")
        overlay = Overlay(root, self.station_name)
        overlay.render(LOCKED_VIEW)
        reader = threading.Thread(target=read_channel, args=(port, secret, self.inbox), daemon=True)
        reader.start()
        root.after(POLL_MS, self._drain, root, overlay)
        if self.blocker is not None:
            self.blocker.install()  # on this thread: Tk's loop pumps the hook's messages
            self.blocker.locked = True
        try:
            root.mainloop()
        finally:
            if self.blocker is not None:
                self.blocker.uninstall()

    def _drain(self, root: Any, overlay: Any) -> None:
        latest_view: dict[str, Any] | None = None
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                break
            if message.get("op") == "view":
                latest_view = message  # only the newest view is worth drawing
            elif message.get("op") == "lock":
                threading.Thread(target=self.control.lock_screen, daemon=True).start()
        if latest_view is not None:
            overlay.render(latest_view)
            if self.blocker is not None:
                self.blocker.locked = latest_view.get("mode") != "session"
        root.after(POLL_MS, self._drain, root, overlay)


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
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_ENV, "")
    DesktopPart(args.station, select_control(args.control), windows_blocker()).run(
        args.port, secret
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
