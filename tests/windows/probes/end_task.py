"""What Task Manager's "End task" does to a process (Wine's taskkill cannot find processes,
and its tasklist lists none): OpenProcess with PROCESS_TERMINATE, then TerminateProcess,
from another process, on the pid given. Prints whether both succeeded."""

from __future__ import annotations

import ctypes
import json
import sys
from typing import Any

PROCESS_TERMINATE = 0x0001
loader: Any = ctypes.WinDLL  # type: ignore[attr-defined,unused-ignore]
kernel32 = loader("kernel32", use_last_error=True)
kernel32.OpenProcess.restype = ctypes.c_void_p
kernel32.OpenProcess.argtypes = (ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint32)
kernel32.TerminateProcess.restype = ctypes.c_int32
kernel32.TerminateProcess.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
kernel32.CloseHandle.argtypes = (ctypes.c_void_p,)

handle = kernel32.OpenProcess(PROCESS_TERMINATE, False, int(sys.argv[1]))
ended = bool(handle) and bool(kernel32.TerminateProcess(handle, 1))
if handle:
    kernel32.CloseHandle(handle)
print(json.dumps({"opened": bool(handle), "ended": ended}))
