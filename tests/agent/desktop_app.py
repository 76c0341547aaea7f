"""A stand-in for the customer's own application (an editor with unsaved work) for the
overlay tests: a Tk window that reports every click and key it receives on its standard
output. It answers ``sync`` once every input event the X server sent it before has been
handled, so a test can tell "did not arrive" without waiting and hoping.

Run as a script in its own process (``python tests/agent/desktop_app.py``) on ``DISPLAY``;
:class:`DesktopApp` starts and reads it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

# Below the banner and clear of the lock view's centred text.
GEOMETRY = (500, 300, 262, 300)  # width, height, x, y
COLOUR = "#3366aa"
INSIDE = (GEOMETRY[2] + 40, GEOMETRY[3] + GEOMETRY[1] - 20)  # a point in the window
READY, SYNCED = "ready", "synced"


def main() -> None:
    import tkinter as tk

    root = tk.Tk(className="customer-app")
    width, height, x, y = GEOMETRY
    root.geometry(f"{width}x{height}+{x}+{y}")
    root.configure(background=COLOUR)

    def say(text: str) -> None:
        print(text, flush=True)

    def on_stdin(_file: object, _mask: int) -> None:
        if not sys.stdin.readline():
            root.destroy()
            return
        root.update()  # XSync first: every event sent before the reply is handled now
        say(SYNCED)

    root.bind("<Button-1>", lambda event: say(f"click {event.x_root} {event.y_root}"))
    root.bind("<Key>", lambda event: say(f"key {event.keysym}"))
    root.tk.createfilehandler(sys.stdin, tk.READABLE, on_stdin)
    root.after_idle(lambda: (root.update(), say(READY)))
    root.mainloop()


class DesktopApp:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, display_name: str) -> DesktopApp:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "DISPLAY": display_name},
        )
        app = cls(process)
        assert await app._lines_until(READY) == []
        return app

    async def received(self) -> list[str]:
        """The clicks and keys that reached the window since the last call."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"sync\n")
        await self.process.stdin.drain()
        return await self._lines_until(SYNCED)

    async def _lines_until(self, marker: str) -> list[str]:
        assert self.process.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(10):
            while (line := (await self.process.stdout.readline()).decode().strip()) != marker:
                if not line:
                    raise AssertionError(f"the stand-in app exited before {marker!r}: {lines}")
                lines.append(line)
        return lines

    async def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


if __name__ == "__main__":
    main()
