"""What Resource Monitor's "Suspend process" does to a process: OpenProcess with
PROCESS_SUSPEND_RESUME, then ntdll's NtSuspendProcess (every thread stopped, the process
alive: a freeze, like SIGSTOP on Linux), on the pid given. Prints the NTSTATUS."""

from __future__ import annotations

import ctypes
import json
import sys
from typing import Any

PROCESS_SUSPEND_RESUME = 0x0800
loader: Any = ctypes.WinDLL  # type: ignore[attr-defined,unused-ignore]
kernel32 = loader("kernel32", use_last_error=True)
ntdll = loader("ntdll")
kernel32.OpenProcess.restype = ctypes.c_void_p
kernel32.OpenProcess.argtypes = (ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint32)
kernel32.CloseHandle.argtypes = (ctypes.c_void_p,)
ntdll.NtSuspendProcess.restype = ctypes.c_uint32  # NTSTATUS, read unsigned
ntdll.NtSuspendProcess.argtypes = (ctypes.c_void_p,)

handle = kernel32.OpenProcess(PROCESS_SUSPEND_RESUME, False, int(sys.argv[1]))
status = ntdll.NtSuspendProcess(handle) if handle else None
if handle:
    kernel32.CloseHandle(handle)
print(json.dumps({"opened": bool(handle), "status": status}))
