"""Every Win32 call of the service and user-session parts, through the agent's own ctypes
layer (control/win32.py, control/usersession.py), on Windows CPython under Wine."""

from __future__ import annotations

import ctypes
import json
import sys

from gameops.agent.control import win32
from gameops.agent.control.usersession import CtypesSessionApi, UserSessionLauncher
from gameops.agent.control.windows import AWAKE_FLAGS, WindowsControl


def main() -> None:
    functions = win32.functions()
    api = win32.CtypesWin32(functions)
    control = WindowsControl(api, in_service=True)
    found: dict[str, object] = {}

    # Every function of the one prototype table resolves in its DLL.
    found["prototypes"] = {
        name: type(getattr(functions, name)).__name__ != "" for name in win32.PROTOTYPES
    }
    found["restypes"] = {
        name: getattr(functions, name).restype.__name__ for name in win32.PROTOTYPES
    }

    found["LockWorkStation"] = [api.LockWorkStation(), functions.last_error()]
    found["enable_privilege"] = [
        api.enable_privilege(win32.SE_SHUTDOWN_NAME),
        api.enable_privilege("SeNoSuchPrivilege"),
    ]
    found["WTSGetActiveConsoleSessionId"] = api.WTSGetActiveConsoleSessionId()
    found["WTSLogoffSession"] = [
        api.WTSLogoffSession(win32.WTS_CURRENT_SERVER_HANDLE, 1, False),
        functions.last_error(),
    ]
    found["WTSSendMessageW"] = [
        api.WTSSendMessageW(1, "GameOps Wine", "Time added!", 0, 5),
        functions.last_error(),
    ]
    control.keep_awake(True)
    found["SetThreadExecutionState"] = [
        api.SetThreadExecutionState(win32.ES_CONTINUOUS),  # answers the previous state
        api.SetThreadExecutionState(win32.ES_CONTINUOUS),
        AWAKE_FLAGS,
    ]
    found["GetTickCount"] = api.GetTickCount()
    found["GetLastInputInfo"] = api.GetLastInputInfo()
    found["idle_seconds"] = control.idle_seconds()
    found["virtual_screen"] = list(win32.virtual_screen(functions))
    found["primary_screen"] = [
        functions.GetSystemMetrics(win32.SM_CXSCREEN),
        functions.GetSystemMetrics(win32.SM_CYSCREEN),
    ]
    found["monitors"] = functions.GetSystemMetrics(win32.SM_CMONITORS)

    # The overlay's start from a service: the console user's token, a primary copy, their
    # environment, CreateProcessAsUserW on winsta0\default; then wait, exit code, close.
    session = CtypesSessionApi(functions)
    launcher = UserSessionLauncher(session)
    check = (
        "import os, sys; "
        "sys.exit(int(os.environ['EXIT_WITH']) + ('src' in os.environ.get('PYTHONPATH', '')))"
    )
    child = launcher.launch([sys.executable, "-c", check], {"EXIT_WITH": "6"})
    session.WaitForSingleObject(child.handle, 60_000)
    found["child_exit_code"] = session.GetExitCodeProcess(child.handle)
    found["child_pid"] = child.pid
    found["CloseHandle"] = session.CloseHandle(child.handle)
    sleeper = launcher.launch([sys.executable, "-c", "import time; time.sleep(60)"], {})
    found["TerminateProcess"] = session.TerminateProcess(sleeper.handle, 1)
    session.WaitForSingleObject(sleeper.handle, 60_000)
    found["terminated_exit_code"] = session.GetExitCodeProcess(sleeper.handle)
    session.CloseHandle(sleeper.handle)
    token = session.WTSQueryUserToken(1)
    found["WTSQueryUserToken"] = token is not None and token > 0
    if token:
        primary = session.DuplicateTokenEx(token)
        found["DuplicateTokenEx"] = primary > 0
        environment = session.CreateEnvironmentBlock(primary)
        found["environment_keys"] = sorted(environment)
        session.CloseHandle(primary)
        session.CloseHandle(token)
    found["pointer_bits"] = ctypes.sizeof(ctypes.c_void_p) * 8
    print(json.dumps(found))


if __name__ == "__main__":
    main()
