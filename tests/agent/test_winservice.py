"""The Windows service host's part that runs anywhere: the agent on the host's thread,
stopped from another thread (the service control handler's) with the reason the service
control stands for, against the real server; and the service's part of pywin32's
framework (:class:`AgentService`) against a fake service manager. The pywin32 part runs
under Wine in ``tests/windows/test_installer.py``."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameops.agent import winservice
from gameops.agent.winservice import (
    SERVICE_CONTROL_PRESHUTDOWN,
    SERVICE_CONTROL_SHUTDOWN,
    SERVICE_CONTROL_STOP,
    SERVICE_RUNNING,
    SERVICE_START_PENDING,
    SERVICE_STOP_PENDING,
    AgentHost,
    AgentService,
    configure_recovery,
    install,
    secure_data_folder,
    service_command,
)
from tests.agent.agentproc import events, station
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually

SERVICE_CONTROL_INTERROGATE = 4


def write_config(tmp_path: Path, base_url: str, station_id: str, token: str) -> Path:
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"station: {{id: '{station_id}', name: PC-SERVICE}}\n"
        f"backend: {{url: '{base_url}', token: '{token}'}}\n"
        "features: {show_overlay: false}\n"
        f"system: {{control: simulated, state_file: '{tmp_path / 'state.json'}'}}\n"
        f"log: {{file: '{tmp_path / 'agent.log'}'}}\n"
    )
    return config


@pytest.mark.parametrize(
    ("control", "reason"),
    [
        (SERVICE_CONTROL_STOP, "service_stop"),
        (SERVICE_CONTROL_SHUTDOWN, "shutdown"),
        (SERVICE_CONTROL_PRESHUTDOWN, "shutdown"),
    ],
)
async def test_a_service_control_stops_the_agent_with_its_reason(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path, control: int, reason: str
) -> None:
    station_id, token = await live_server.create_pc_station("PC-SERVICE")
    host = AgentHost(write_config(tmp_path, live_server.base_url, station_id, token))
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(host.run()), daemon=True)
    thread.start()
    await eventually(lambda: station(admin, station_id), lambda s: s["agent_connected"], 15)

    assert not host.stop_for_control(SERVICE_CONTROL_INTERROGATE)  # answered, not a stop
    assert host.stop_for_control(control)

    stopped = await eventually(
        lambda: station(admin, station_id),
        lambda s: s["agent_stop"] is not None and not s["agent_connected"],
    )
    assert stopped["agent_stop"]["reason"] == reason
    [event] = await events(admin, "AGENT_STOPPED", station_id)
    assert event["data"]["reason"] == reason
    await eventually(lambda: _done(thread), bool, 10)
    assert codes == [0]


async def test_a_stop_before_the_agent_is_up_is_kept_until_it_is(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The service manager may send stop while the agent is still starting."""
    station_id, token = await live_server.create_pc_station("PC-SERVICE")
    host = AgentHost(write_config(tmp_path, live_server.base_url, station_id, token))
    host.stop("shutdown")
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(host.run()), daemon=True)
    thread.start()
    await eventually(lambda: _done(thread), bool, 15)
    assert codes == [0]
    assert host.started.is_set()


def test_a_config_error_is_the_exit_code_the_service_fails_with(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("station: {name: PC}\n")
    assert AgentHost(config).run() == 2


def test_the_service_runs_this_interpreter_on_the_module(tmp_path: Path) -> None:
    command = service_command(tmp_path / "agent.yaml")
    assert command.startswith('"')
    assert " -m gameops.agent.winservice service --config " in command
    assert command.endswith(f'"{tmp_path / "agent.yaml"}"')


async def _done(thread: threading.Thread) -> bool:
    return not thread.is_alive()


class FakeScm:
    """pywin32's ``servicemanager`` / ``win32service`` as :class:`AgentService` uses them."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[int, int, object], None]] = {}
        self.statuses: list[tuple[int, ...]] = []
        self.logged: list[str] = []

    def RegisterServiceCtrlHandler(  # noqa: N802 - pywin32's name
        self, name: str, handler: Callable[[int, int, object], None], extended: bool
    ) -> int:
        assert extended  # the handler takes the event type and data too
        self.handlers[name] = handler
        return 7

    def SetServiceStatus(self, handle: int, status: tuple[int, ...]) -> None:  # noqa: N802
        assert handle == 7
        self.statuses.append(status)

    def LogInfoMsg(self, text: str) -> None:  # noqa: N802
        self.logged.append(text)

    def SetEventSourceName(self, name: str) -> None:  # noqa: N802
        self.logged.append(f"source: {name}")


class FakeHost:
    def __init__(self, code: int = 0) -> None:
        self.config_path = Path("agent.yaml")
        self.code = code
        self.controls: list[int] = []

    def run(self) -> int:
        return self.code

    def stop_for_control(self, control: int) -> bool:
        self.controls.append(control)
        return True


def service(host: FakeHost) -> tuple[AgentService, FakeScm]:
    scm = FakeScm()
    return AgentService(["GameOpsAgent"], scm, host), scm  # type: ignore[arg-type]


def test_the_service_reports_running_then_stopping_and_takes_stop_and_shutdown_controls() -> None:
    agent_service, scm = service(FakeHost())
    agent_service.SvcRun()
    own_process, accepts_all = 0x10, 0x1 | 0x4 | 0x100  # stop, shutdown, pre-shutdown
    assert scm.statuses == [
        (own_process, SERVICE_RUNNING, accepts_all, 0, 0, 0, 5000),
        (own_process, SERVICE_STOP_PENDING, accepts_all, 0, 0, 1, 5000),
    ]
    assert scm.logged == ["source: GameOpsAgent", "GameOpsAgent: starting (agent.yaml)"]


@pytest.mark.parametrize(
    ("control", "reported"),
    [
        (SERVICE_CONTROL_STOP, SERVICE_STOP_PENDING),
        (SERVICE_CONTROL_PRESHUTDOWN, SERVICE_STOP_PENDING),
        (SERVICE_CONTROL_SHUTDOWN, None),  # the system is going down: nobody reads it
        (SERVICE_CONTROL_INTERROGATE, SERVICE_RUNNING),  # the state it is in
    ],
)
def test_each_control_reaches_the_agent_with_the_status_the_manager_expects(
    control: int, reported: int | None
) -> None:
    host = FakeHost()
    agent_service, scm = service(host)
    agent_service.report(SERVICE_RUNNING)
    scm.statuses.clear()
    scm.handlers["GameOpsAgent"](control, 0, None)  # the service manager's thread
    assert host.controls == [control]
    assert [status[1] for status in scm.statuses] == ([] if reported is None else [reported])
    if reported == SERVICE_STOP_PENDING:
        assert scm.statuses[0][6] == 15000  # the stop may take this long: goodbye, lock


def test_an_agent_that_exits_with_an_error_fails_the_service_so_it_is_restarted() -> None:
    agent_service, scm = service(FakeHost(code=2))
    with pytest.raises(SystemExit, match="exited with code 2"):
        agent_service.SvcRun()  # pywin32's host reports SERVICE_STOPPED with an error
    assert [status[1] for status in scm.statuses] == [SERVICE_RUNNING]


def test_nothing_is_accepted_while_the_service_starts() -> None:
    agent_service, scm = service(FakeHost())
    agent_service.report(SERVICE_START_PENDING)
    assert scm.statuses[-1][2] == 0


class FakePywintypesError(Exception):
    def __init__(self, code: int, function: str, strerror: str) -> None:
        super().__init__(code, function, strerror)
        self.strerror = strerror


class FakeWin32Service(types.ModuleType):
    """pywin32's ``win32service`` as :func:`configure_recovery` and :func:`install` call it
    (the constants are winsvc.h's), recording every call; ``refuse`` holds the info levels
    this service manager rejects, as Wine's does the failure-actions flag."""

    SC_ACTION_RESTART = 1
    SERVICE_CONFIG_DESCRIPTION = 1
    SERVICE_CONFIG_FAILURE_ACTIONS = 2
    SERVICE_CONFIG_FAILURE_ACTIONS_FLAG = 4
    SERVICE_CONFIG_PRESHUTDOWN_INFO = 7
    SC_MANAGER_ALL_ACCESS = 0xF003F
    SERVICE_ALL_ACCESS = 0xF01FF
    SERVICE_WIN32_OWN_PROCESS = 0x10
    SERVICE_AUTO_START = 2
    SERVICE_ERROR_NORMAL = 1
    SERVICE_RUNNING = 4

    def __init__(self, refuse: tuple[int, ...] = ()) -> None:
        super().__init__("win32service")
        self.refuse = refuse
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def ChangeServiceConfig2(self, handle: int, level: int, value: Any) -> None:  # noqa: N802
        self.calls.append(("ChangeServiceConfig2", (handle, level, value)))
        if level in self.refuse:
            raise FakePywintypesError(
                124, "ChangeServiceConfig2", "The system call level is not correct."
            )

    def OpenSCManager(self, *args: Any) -> str:  # noqa: N802
        self.calls.append(("OpenSCManager", args))
        return "manager"

    def CreateService(self, *args: Any) -> str:  # noqa: N802
        self.calls.append(("CreateService", args))
        return "service"

    def CloseServiceHandle(self, handle: str) -> None:  # noqa: N802
        self.calls.append(("CloseServiceHandle", (handle,)))


@pytest.fixture
def scm(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeWin32Service]:
    def install(refuse: tuple[int, ...] = ()) -> FakeWin32Service:
        fake = FakeWin32Service(refuse)
        pywintypes = types.ModuleType("pywintypes")
        pywintypes.error = FakePywintypesError  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "win32service", fake)
        monkeypatch.setitem(sys.modules, "pywintypes", pywintypes)
        return fake

    return install


def test_recovery_restarts_the_service_2_s_after_every_failure_and_gives_time_at_shutdown(
    scm: Callable[..., FakeWin32Service],
) -> None:
    """Not provable under Wine (it refuses the flag and never restarts a killed service):
    the settings the service manager is asked for."""
    fake = scm()
    assert configure_recovery(7) == []
    restart = (FakeWin32Service.SC_ACTION_RESTART, 2000)
    assert fake.calls == [
        ("ChangeServiceConfig2", (7, 1, "Enforces paid gaming time on this PC (GameOps).")),
        ("ChangeServiceConfig2", (7, 2, {
            "ResetPeriod": 86400, "RebootMsg": None, "Command": None,
            "Actions": [restart, restart, restart],  # the last repeats: every failure
        })),
        ("ChangeServiceConfig2", (7, 4, True)),  # an exit with an error is a failure too
        ("ChangeServiceConfig2", (7, 7, 10000)),  # pre-shutdown: 10 s to say goodbye
    ]  # fmt: skip


def test_a_setting_the_service_manager_refuses_is_said_and_the_others_still_applied(
    scm: Callable[..., FakeWin32Service], capsys: pytest.CaptureFixture[str]
) -> None:
    fake = scm(refuse=(FakeWin32Service.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG,))
    assert configure_recovery(7) == ["failure actions flag"]
    assert [call[1][1] for call in fake.calls] == [1, 2, 4, 7]
    assert "refused the failure actions flag: The system call level is not correct." in (
        capsys.readouterr().out
    )


def test_install_registers_an_automatic_localsystem_service_running_this_module(
    scm: Callable[..., FakeWin32Service], tmp_path: Path
) -> None:
    fake = scm()
    install(tmp_path / "agent.yaml", start=False)
    name, args = fake.calls[1]
    assert name == "CreateService"
    assert args[1:8] == (
        "GameOpsAgent", "GameOps PC agent", FakeWin32Service.SERVICE_ALL_ACCESS,
        FakeWin32Service.SERVICE_WIN32_OWN_PROCESS, FakeWin32Service.SERVICE_AUTO_START,
        FakeWin32Service.SERVICE_ERROR_NORMAL, service_command(tmp_path / "agent.yaml"),
    )  # fmt: skip
    assert args[-2:] == (None, None)  # no account, no password: LocalSystem
    assert [c[1][1] for c in fake.calls if c[0] == "ChangeServiceConfig2"] == [1, 2, 4, 7]
    assert fake.calls[-2:] == [
        ("CloseServiceHandle", ("service",)),
        ("CloseServiceHandle", ("manager",)),
    ]


class FakeWin32Security:
    """pywin32's ``win32security`` as :func:`secure_data_folder` calls it (the constants
    are winnt.h's and accctrl.h's); records the DACL and where it was set."""

    WinLocalSystemSid, WinBuiltinAdministratorsSid = 22, 26
    ACL_REVISION = 2
    SE_FILE_OBJECT = 1
    DACL_SECURITY_INFORMATION = 0x4
    PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000

    def __init__(self) -> None:
        self.set: list[tuple[Any, ...]] = []

    class ACL:
        def __init__(self) -> None:
            self.entries: list[tuple[int, int, int, str]] = []

        def AddAccessAllowedAceEx(self, revision: int, flags: int, mask: int, sid: str) -> None:  # noqa: N802
            self.entries.append((revision, flags, mask, sid))

    def CreateWellKnownSid(self, kind: int) -> str:  # noqa: N802
        return {22: "S-1-5-18", 26: "S-1-5-32-544"}[kind]

    def SetNamedSecurityInfo(self, *args: Any) -> None:  # noqa: N802
        self.set.append(args)


def test_the_data_folder_is_for_system_and_administrators_only(tmp_path: Path) -> None:
    """Wine's icacls is a stub and Wine keeps no file security (it reads back its default
    DACL whatever was set): the DACL the installer sets, against a fake."""
    security = FakeWin32Security()
    secure_data_folder(tmp_path, security)
    [(path, kind, what, owner, group, dacl, sacl)] = security.set
    assert (path, kind, owner, group, sacl) == (str(tmp_path), 1, None, None, None)
    assert what == 0x4 | 0x80000000  # the DACL, protected: nothing inherited from above
    full_control, files_and_folders_below = 0x1F01FF, 0x1 | 0x2  # (OI)(CI)F
    assert dacl.entries == [
        (2, files_and_folders_below, full_control, "S-1-5-18"),  # SYSTEM
        (2, files_and_folders_below, full_control, "S-1-5-32-544"),  # Administrators
    ]  # and nobody else: not Users, not Everyone, not the customer


def test_a_folder_that_cannot_be_secured_stops_the_installer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    security = types.ModuleType("win32security")  # one that refuses: no such function
    monkeypatch.setitem(sys.modules, "win32security", security)
    assert winservice.main(["secure", "--dir", str(tmp_path)]) == winservice.EXIT_NOT_SECURED
    assert "its permissions could not be set" in capsys.readouterr().err
