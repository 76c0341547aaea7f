"""Starting the overlay in the user's session from a Windows service: the Win32 call
sequence against a fake, and how the supervisor copes with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import pytest

from gameops.agent.control.usersession import (
    INFINITE,
    NO_CONSOLE_SESSION,
    USER_DESKTOP,
    UserSessionLauncher,
)
from gameops.agent.supervisor import Child, NoUserSession, Supervisor, SupervisorHooks


class FakeSessionApi:
    def __init__(self, session_id: int = 2, user_token: int | None = 11) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.session_id = session_id
        self.user_token = user_token

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def WTSGetActiveConsoleSessionId(self) -> int:  # noqa: N802
        self._record("WTSGetActiveConsoleSessionId")
        return self.session_id

    def WTSQueryUserToken(self, session_id: int) -> int | None:  # noqa: N802
        self._record("WTSQueryUserToken", session_id)
        return self.user_token

    def DuplicateTokenEx(self, token: int) -> int:  # noqa: N802
        self._record("DuplicateTokenEx", token)
        return 22

    def CreateEnvironmentBlock(self, token: int) -> dict[str, str]:  # noqa: N802
        self._record("CreateEnvironmentBlock", token)
        return {"USERPROFILE": "C:\\Users\\player", "TEMP": "C:\\Temp"}

    def CreateProcessAsUserW(  # noqa: N802
        self, token: int, command_line: str, environment: dict[str, str], desktop: str
    ) -> tuple[int, int]:
        self._record("CreateProcessAsUserW", token, command_line, environment, desktop)
        return 33, 4242

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int:  # noqa: N802
        self._record("WaitForSingleObject", handle, milliseconds)
        return 0

    def GetExitCodeProcess(self, handle: int) -> int:  # noqa: N802
        self._record("GetExitCodeProcess", handle)
        return 1

    def TerminateProcess(self, handle: int, exit_code: int) -> bool:  # noqa: N802
        self._record("TerminateProcess", handle, exit_code)
        return True

    def CloseHandle(self, handle: int) -> bool:  # noqa: N802
        self._record("CloseHandle", handle)
        return True


def test_the_overlay_starts_on_the_console_users_desktop_with_the_secret() -> None:
    api = FakeSessionApi()
    command = ["C:\\Python\\python.exe", "-m", "gameops.agent.desktop", "--station", "PC 01"]
    child = UserSessionLauncher(api).launch(command, {"GAMEOPS_DESKTOP_SECRET": "s3"})
    environment = {
        "USERPROFILE": "C:\\Users\\player",
        "TEMP": "C:\\Temp",
        "GAMEOPS_DESKTOP_SECRET": "s3",
    }
    command_line = 'C:\\Python\\python.exe -m gameops.agent.desktop --station "PC 01"'
    assert api.calls == [
        ("WTSGetActiveConsoleSessionId", ()),
        ("WTSQueryUserToken", (2,)),
        ("DuplicateTokenEx", (11,)),
        ("CloseHandle", (11,)),
        ("CreateEnvironmentBlock", (22,)),
        ("CreateProcessAsUserW", (22, command_line, environment, USER_DESKTOP)),
        ("CloseHandle", (22,)),
    ]
    assert (child.pid, child.handle) == (4242, 33)


async def test_waiting_for_and_stopping_the_child_go_through_its_handle() -> None:
    api = FakeSessionApi()
    child = UserSessionLauncher(api).launch(["x.exe"], {})
    child.terminate()
    assert await child.wait() == 1
    assert api.calls[-4:] == [
        ("TerminateProcess", (33, 1)),
        ("WaitForSingleObject", (33, INFINITE)),
        ("GetExitCodeProcess", (33,)),
        ("CloseHandle", (33,)),
    ]


@pytest.mark.parametrize(("session_id", "user_token"), [(2, None), (NO_CONSOLE_SESSION, 11)])
def test_nobody_logged_on_is_not_an_error(session_id: int, user_token: int | None) -> None:
    api = FakeSessionApi(session_id, user_token)
    with pytest.raises(NoUserSession):
        UserSessionLauncher(api).launch(["x.exe"], {})
    assert "CreateProcessAsUserW" not in [name for name, _ in api.calls]


async def test_supervisor_waits_for_a_user_without_reporting_tamper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gameops.agent.supervisor.MAX_RESTART_DELAY", 0.01)
    attempts: list[Sequence[str]] = []
    deaths: list[int] = []

    async def launcher(command: Sequence[str], env: dict[str, str]) -> Child:
        attempts.append(command)
        if len(attempts) >= 3:
            await asyncio.sleep(3600)  # stand in for a user who logs on later
        raise NoUserSession("nobody logged on")

    hooks = SupervisorHooks(on_exit=lambda end: deaths.append(end.returncode or 0))
    supervisor = Supervisor(["overlay"], {}, hooks, launcher)
    task = asyncio.create_task(supervisor.run())
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(attempts) == 3
    assert deaths == []
