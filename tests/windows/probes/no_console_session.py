"""WTSGetActiveConsoleSessionId answering 0xFFFFFFFF ("no console session", e.g. while
the console switches sessions), through the agent's prototype table on Windows CPython.

Wine always answers session 1, so kernel32's function is replaced by a native function
pointer that returns the DWORD 0xFFFFFFFF, looked up the way ctypes.windll hands out every
function: with ctypes' default ``int`` restype. Everything else is the real kernel32.
"""

from __future__ import annotations

import ctypes
import json
import sys
from typing import Any

from gameops.agent.control import win32
from gameops.agent.control.usersession import CtypesSessionApi, UserSessionLauncher
from gameops.agent.supervisor import NoUserSession

factory: Any = ctypes.WINFUNCTYPE  # type: ignore[attr-defined,unused-ignore]
no_session = factory(ctypes.c_uint32)(lambda: 0xFFFFFFFF)
address = ctypes.cast(no_session, ctypes.c_void_p).value


class Kernel32WithoutConsoleSession:
    def __init__(self) -> None:
        self.real = win32.load_windll("kernel32")
        self.WTSGetActiveConsoleSessionId = factory(ctypes.c_int)(address)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def loader(name: str) -> Any:
    return Kernel32WithoutConsoleSession() if name == "kernel32" else win32.load_windll(name)


def main() -> None:
    api = CtypesSessionApi(win32.Win32Functions(loader))
    answer: dict[str, Any] = {"session_id": api.WTSGetActiveConsoleSessionId()}
    try:
        UserSessionLauncher(api).launch([sys.executable, "-c", "pass"], {})
        answer["launch"] = "started"
    except NoUserSession as err:
        answer["launch"] = f"NoUserSession: {err}"
    except OSError as err:
        answer["launch"] = f"OSError: {err}"
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
