"""ExitWindowsEx as the user-session agent calls it to log the customer off."""

from __future__ import annotations

import json

from gameops.agent.control import win32

api = win32.CtypesWin32()
flags = win32.EWX_LOGOFF | win32.EWX_FORCEIFHUNG
reason = win32.SHTDN_REASON_MAJOR_OTHER | win32.SHTDN_REASON_FLAG_PLANNED
print(json.dumps({"ExitWindowsEx": api.ExitWindowsEx(flags, reason)}))
