"""ExitWindowsEx as the user-session agent calls it to log the customer off, and
InitiateSystemShutdownExW as the service restarts the PC for staff (with a 0 s notice
and no reboot here, so that nothing waits)."""

from __future__ import annotations

import json

from gameops.agent.control import win32

api = win32.CtypesWin32()
flags = win32.EWX_LOGOFF | win32.EWX_FORCEIFHUNG
reason = win32.SHTDN_REASON_MAJOR_OTHER | win32.SHTDN_REASON_FLAG_PLANNED
power = api.InitiateSystemShutdownExW("GameOps: Wine tier", 0, False, False, reason)
power_error = api.win.last_error()
logoff = api.ExitWindowsEx(flags, reason)
print(json.dumps({"InitiateSystemShutdownExW": [power, power_error], "ExitWindowsEx": logoff}))
