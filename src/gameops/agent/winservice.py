"""The Windows service host: the agent as the ``GameOpsAgent`` service, on pywin32's service
host (``servicemanager``; docs/agent.md says why this one) with :class:`AgentService`, the
part of ``win32serviceutil.ServiceFramework`` the agent needs.

``python.exe -m gameops.agent.winservice service --config PATH`` is the command line the
service is registered with: python.exe itself is the service's program, and
``servicemanager.StartServiceCtrlDispatcher`` connects it to the service control manager
(no ``pythonservice.exe``, no Python class in the registry). The other commands are what
the installer runs, elevated:

- ``install --config PATH [--start]``: registers the service (automatic start, LocalSystem),
  with recovery actions that restart it after 2 s on every failure, also when it stops
  with an error (``ChangeServiceConfig2``), and a pre-shutdown notification;
- ``remove [--reason uninstall|update] [--by WHO]``: leaves the stop note next to the state
  file (:mod:`.goodbye`), stops the service, waits for it and for its process to exit (so
  its files can be deleted next), and deletes it;
- ``check --config PATH``: loads the config as the agent would; exit code 2 and the
  message when it cannot be used (the installer refuses to go on);
- ``secure --dir PATH``: the data folder for SYSTEM and Administrators only; exit code 4
  when that fails (the installer refuses to go on);
- ``run --config PATH``: the same host in a console, for trying it by hand.

The service's stop and shutdown controls end in :meth:`Agent.stop`: ``SERVICE_CONTROL_STOP``
with reason ``service_stop``, ``SERVICE_CONTROL_SHUTDOWN`` and ``PRESHUTDOWN`` with
``shutdown``, so the agent says goodbye with that reason before it exits.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the service must reach its dispatcher fast: imports come later
    import asyncio

    from gameops.protocol import StopReason

SERVICE_NAME = "GameOpsAgent"
DISPLAY_NAME = "GameOps PC agent"
DESCRIPTION = "Enforces paid gaming time on this PC (GameOps)."
RESTART_AFTER_MS = 2000
FAILURES_RESET_AFTER_S = 86400
PRESHUTDOWN_TIMEOUT_MS = 10000  # time to say goodbye and lock before Windows goes down
STOP_WAIT_SECONDS = 30
START_WAIT_SECONDS = 120

STOP_WAIT_HINT_MS = 15000  # how long the service manager is told a stop may take
# winnt.h: the data folder's access entries (full control, inherited by files and folders).
FILE_ALL_ACCESS = 0x001F01FF
OBJECT_INHERIT_ACE, CONTAINER_INHERIT_ACE = 0x1, 0x2
EXIT_NOT_SECURED = 4
SYNCHRONIZE, WAIT_OBJECT_0 = 0x00100000, 0  # waiting for the service's process to end

# winsvc.h: the service's states and type, the controls it accepts, and those that stop the
# agent (with the reason its goodbye gives).
SERVICE_WIN32_OWN_PROCESS = 0x10
SERVICE_STOPPED, SERVICE_START_PENDING, SERVICE_STOP_PENDING, SERVICE_RUNNING = 1, 2, 3, 4
SERVICE_ACCEPT_STOP, SERVICE_ACCEPT_SHUTDOWN, SERVICE_ACCEPT_PRESHUTDOWN = 0x1, 0x4, 0x100
ACCEPTED_CONTROLS = SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN
SERVICE_CONTROL_STOP = 1
SERVICE_CONTROL_SHUTDOWN = 5
SERVICE_CONTROL_PRESHUTDOWN = 15
STOP_REASONS: dict[int, StopReason] = {
    SERVICE_CONTROL_STOP: "service_stop",
    SERVICE_CONTROL_SHUTDOWN: "shutdown",
    SERVICE_CONTROL_PRESHUTDOWN: "shutdown",
}


class AgentHost:
    """The agent, run on the calling thread with its own event loop; :meth:`stop` may be
    called from any thread (the service control handler's), even before the agent is up."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._guard = threading.Lock()
        self._stop_reason: StopReason | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._agent: Any = None
        self.started = threading.Event()  # the agent runs (its loop is up)

    def run(self) -> int:
        """Run the agent until :meth:`stop`; the exit code (2: a configuration error)."""
        from .main import prepare

        prepared = prepare(self.config_path)  # before asyncio: it may leave ssl out
        if isinstance(prepared, int):
            return prepared
        import asyncio

        return asyncio.run(self._serve(*prepared))

    async def _serve(self, config: Any, parts: Any) -> int:
        import asyncio

        from .runtime import Agent

        agent = Agent(config, parts)
        with self._guard:
            self._loop, self._agent = asyncio.get_running_loop(), agent
            if self._stop_reason is not None:
                agent.stop(self._stop_reason)
        self.started.set()
        return await agent.run()

    def stop(self, reason: StopReason) -> None:
        with self._guard:
            if self._stop_reason is None:
                self._stop_reason = reason
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._agent.stop, self._stop_reason)

    def stop_for_control(self, control: int) -> bool:
        """A service control: stop for it if it is one that stops the agent."""
        reason = STOP_REASONS.get(control)
        if reason is not None:
            self.stop(reason)
        return reason is not None


def service_command(config_path: Path) -> str:
    """The service's command line: this interpreter running this module."""
    python = Path(sys.executable)
    if python.name.lower() == "pythonw.exe":
        python = python.with_name("python.exe")
    return f'"{python}" -m gameops.agent.winservice service --config "{config_path}"'


class AgentService:
    """The service as pywin32's host runs it (``servicemanager.PrepareToHostSingle``
    instantiates it with the service's arguments and calls :meth:`SvcRun`).

    The part of ``win32serviceutil.ServiceFramework`` the agent needs, on ``servicemanager``
    and ``win32service`` alone: ``win32serviceutil`` imports ``win32api`` and ``win32con``
    too, 3.9 MB of the service's memory under Wine (docs/benchmarks.md). ``scm`` is
    whatever answers ``RegisterServiceCtrlHandler``, ``SetServiceStatus``, ``LogInfoMsg``
    and ``SetEventSourceName`` (pywin32's modules, or a fake); ``host`` runs the agent.
    """

    def __init__(self, args: Sequence[str], scm: Any, host: AgentHost) -> None:
        self.scm = scm
        self.host = host
        self.checkpoint = 0
        self.state = SERVICE_START_PENDING
        # From here on the service manager sends controls to ``control`` (another thread).
        self.status_handle = scm.RegisterServiceCtrlHandler(args[0], self.control, True)
        scm.SetEventSourceName(SERVICE_NAME)  # its event log entries say GameOpsAgent

    def report(self, state: int, wait_hint_ms: int = 5000) -> None:
        """SetServiceStatus: the state, and which controls it takes (none while starting)."""
        self.state = state
        accepted = 0 if state == SERVICE_START_PENDING else ACCEPTED_CONTROLS
        if state in (SERVICE_RUNNING, SERVICE_STOPPED):
            checkpoint = 0
        else:
            self.checkpoint += 1
            checkpoint = self.checkpoint
        status = (SERVICE_WIN32_OWN_PROCESS, state, accepted, 0, 0, checkpoint, wait_hint_ms)
        self.scm.SetServiceStatus(self.status_handle, status)

    def control(self, control: int, event_type: int, data: Any) -> None:
        """The service control handler: stop, shutdown and pre-shutdown stop the agent with
        their reason; anything else (interrogate) is answered with the current state."""
        if control in (SERVICE_CONTROL_STOP, SERVICE_CONTROL_PRESHUTDOWN):
            self.report(SERVICE_STOP_PENDING, wait_hint_ms=STOP_WAIT_HINT_MS)
        elif control != SERVICE_CONTROL_SHUTDOWN:  # shutdown: no status report is read
            self.report(self.state)
        self.host.stop_for_control(control)

    def SvcRun(self) -> None:  # the name pywin32's host calls
        self.report(SERVICE_RUNNING)
        self.scm.LogInfoMsg(f"{SERVICE_NAME}: starting ({self.host.config_path})")
        code = self.host.run()
        if code != 0:
            # A non-zero exit is a failure: the recovery actions start it again.
            raise SystemExit(f"{SERVICE_NAME}: the agent exited with code {code}")
        # The host reports SERVICE_STOPPED once this returns.
        self.report(SERVICE_STOP_PENDING)


def service_class(config_path: Path) -> type[AgentService]:
    """What pywin32's host instantiates: :class:`AgentService` on pywin32's modules, running
    the agent with ``config_path`` (Windows only: pywin32 is imported here)."""
    import servicemanager
    import win32service

    class PyWin32:
        RegisterServiceCtrlHandler = staticmethod(servicemanager.RegisterServiceCtrlHandler)
        SetServiceStatus = staticmethod(win32service.SetServiceStatus)
        LogInfoMsg = staticmethod(servicemanager.LogInfoMsg)
        SetEventSourceName = staticmethod(servicemanager.SetEventSourceName)

    class Service(AgentService):
        _svc_name_ = SERVICE_NAME

        def __init__(self, args: Sequence[str]) -> None:
            super().__init__(args, PyWin32, AgentHost(config_path))

    return Service


def install(config_path: Path, start: bool) -> None:
    import win32service

    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        handle = win32service.CreateService(
            manager, SERVICE_NAME, DISPLAY_NAME, win32service.SERVICE_ALL_ACCESS,
            win32service.SERVICE_WIN32_OWN_PROCESS, win32service.SERVICE_AUTO_START,
            win32service.SERVICE_ERROR_NORMAL, service_command(config_path),
            None, False, None, None, None,
        )  # fmt: skip
        try:
            configure_recovery(handle)
            print(f"installed {SERVICE_NAME}: {service_command(config_path)}")
            if start:  # with this handle: Wine's OpenService may not find it yet
                win32service.StartService(handle, None)
                wait_for(handle, win32service.SERVICE_RUNNING, START_WAIT_SECONDS)
                print(f"started {SERVICE_NAME}")
        finally:
            win32service.CloseServiceHandle(handle)
    finally:
        win32service.CloseServiceHandle(manager)


def wait_for(handle: Any, state: int, seconds: float) -> None:
    import win32service

    deadline = time.monotonic() + seconds
    while (now := win32service.QueryServiceStatus(handle)[1]) != state:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{SERVICE_NAME} is in state {now}, not {state}, after {seconds} s")
        time.sleep(0.5)


def configure_recovery(handle: Any) -> list[str]:
    """Restart 2 s after every failure (a kill, a crash, an exit with an error), forever;
    and time to say goodbye before a shutdown. The settings this service manager refused
    (Wine's has no failure-actions flag) are returned, and said, not fatal."""
    import pywintypes
    import win32service

    restart = (win32service.SC_ACTION_RESTART, RESTART_AFTER_MS)
    settings: list[tuple[str, int, Any]] = [
        ("description", win32service.SERVICE_CONFIG_DESCRIPTION, DESCRIPTION),
        (
            "failure actions",
            win32service.SERVICE_CONFIG_FAILURE_ACTIONS,
            {
                "ResetPeriod": FAILURES_RESET_AFTER_S,
                "RebootMsg": None,
                "Command": None,
                "Actions": [restart, restart, restart],
            },
        ),
        # Run the recovery actions also when the agent stops with an error, not only when
        # the process dies.
        ("failure actions flag", win32service.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, True),
        ("pre-shutdown", win32service.SERVICE_CONFIG_PRESHUTDOWN_INFO, PRESHUTDOWN_TIMEOUT_MS),
    ]
    refused = []
    for name, level, value in settings:
        try:
            win32service.ChangeServiceConfig2(handle, level, value)
        except pywintypes.error as err:
            print(f"{SERVICE_NAME}: this service manager refused the {name}: {err.strerror}")
            refused.append(name)
    return refused


def remove(state_path: Path | None, reason: StopReason | None, by: str | None) -> None:
    import pywintypes
    import win32service
    import win32serviceutil

    from .goodbye import note_path

    note = note_path(state_path) if reason is not None and state_path is not None else None
    if note is not None:  # the agent's goodbye gives this reason, and who
        note.write_text(f"{reason}\n{by or ''}\n", encoding="utf-8")
    try:
        process_id = service_process_id()
        win32serviceutil.StopService(SERVICE_NAME)
        win32serviceutil.WaitForServiceStatus(
            SERVICE_NAME, win32service.SERVICE_STOPPED, STOP_WAIT_SECONDS
        )
        # STOPPED is reported before the process has exited; until it has, python.exe and
        # its DLLs are open and the uninstaller's next step cannot delete them.
        if process_id:
            wait_for_exit(process_id, STOP_WAIT_SECONDS)
    except pywintypes.error as err:  # not running (1062), or already gone (1060)
        print(f"stop {SERVICE_NAME}: {err.strerror}")
        if note is not None:  # no agent read it: it must not explain a later stop
            note.unlink(missing_ok=True)
    win32serviceutil.RemoveService(SERVICE_NAME)
    print(f"removed {SERVICE_NAME}")


def service_process_id() -> int:
    """The running service's process id (0 when it is not running)."""
    import win32service

    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_CONNECT)
    try:
        handle = win32service.OpenService(manager, SERVICE_NAME, win32service.SERVICE_QUERY_STATUS)
        try:
            status: Any = win32service.QueryServiceStatusEx(handle)  # a dict, at run time
            return int(status["ProcessId"])
        finally:
            win32service.CloseServiceHandle(handle)
    finally:
        win32service.CloseServiceHandle(manager)


def wait_for_exit(process_id: int, seconds: float) -> bool:
    """Wait for the process to end; False when it was still running after ``seconds``."""
    import pywintypes
    import win32api
    import win32event

    try:
        process = win32api.OpenProcess(SYNCHRONIZE, False, process_id)
    except pywintypes.error:  # gone already
        return True
    try:
        return bool(win32event.WaitForSingleObject(process, int(seconds * 1000)) == WAIT_OBJECT_0)
    finally:
        win32api.CloseHandle(process)


def secure_data_folder(path: Path, security: Any = None) -> None:
    """Give the data folder (the token, the signed state file) a protected DACL: full
    control for SYSTEM and Administrators, inherited by everything in it, and nothing
    inherited from above, so the customer's account cannot read or change a thing there.
    What ``icacls /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F``
    does, through pywin32's ``win32security`` (``security``: it, or a fake), so the
    installer fails when it cannot be done. ``SetNamedSecurityInfo`` applies the
    inheritable entries to what the folder already holds."""
    if security is None:
        import win32security as security
    everything_below = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE
    dacl = security.ACL()
    for well_known in (security.WinLocalSystemSid, security.WinBuiltinAdministratorsSid):
        sid = security.CreateWellKnownSid(well_known)
        dacl.AddAccessAllowedAceEx(security.ACL_REVISION, everything_below, FILE_ALL_ACCESS, sid)
    security.SetNamedSecurityInfo(
        str(path), security.SE_FILE_OBJECT,
        security.DACL_SECURITY_INFORMATION | security.PROTECTED_DACL_SECURITY_INFORMATION,
        None, None, dacl, None,
    )  # fmt: skip


def check(config_path: Path) -> int:
    from .config import ConfigError, load_config
    from .main import EXIT_CONFIG_ERROR

    try:
        load_config(config_path, {})
    except ConfigError as err:
        print(f"gameops-agent: {err}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(f"{config_path}: ok")
    return 0


def dispatch(config_path: Path) -> None:
    """Started by the service control manager: hand this process to it."""
    import servicemanager

    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(service_class(config_path))
    servicemanager.StartServiceCtrlDispatcher()  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gameops.agent.winservice", description="The GameOps agent service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("service", "run", "install", "check"):
        command = commands.add_parser(name)
        command.add_argument("--config", type=Path, required=True)
        if name == "install":
            command.add_argument("--start", action="store_true")
    securing = commands.add_parser("secure")
    securing.add_argument("--dir", type=Path, required=True)
    removing = commands.add_parser("remove")
    removing.add_argument("--state-file", type=Path)
    removing.add_argument("--reason", choices=["uninstall", "update"])
    removing.add_argument("--by")
    args = parser.parse_args(argv)
    if args.command == "service":
        dispatch(args.config)
    elif args.command == "run":
        return AgentHost(args.config.resolve()).run()
    elif args.command == "check":
        return check(args.config)
    elif args.command == "secure":
        try:
            secure_data_folder(args.dir)
        except Exception as err:  # the installer stops: the token must not be readable
            print(f"{args.dir}: its permissions could not be set: {err!r}", file=sys.stderr)
            return EXIT_NOT_SECURED
        print(f"{args.dir}: SYSTEM and Administrators only")
    elif args.command == "install":
        try:
            install(args.config.resolve(), args.start)
        except Exception as err:  # said in one line: the installer's log keeps 1 KB of it
            print(f"{SERVICE_NAME}: {err!r}", file=sys.stderr)
            return 3
    else:
        remove(args.state_file, args.reason, args.by)
    return 0


if __name__ == "__main__":
    from .lean import defer_unused_imports

    defer_unused_imports()
    sys.exit(main())
