"""Staff commands on the PC: carry out ``station_command`` and ``wake_relay`` and answer each
with ``command_result``.

A message shows on the overlay with a "Got it" button (a second result, ``seen``, when the
customer clicks it), or as a system notification when no overlay shows. A restart or
shutdown is answered in the seconds the system takes to go down.
A command the server sends again (it never had the answer) is answered again, not redone.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from gameops.i18n import words_in
from gameops.protocol import CommandResult, Payload, StationCommand, WakeRelay
from gameops.protocol.wake import send_magic_packet

from .logs import get_logger

log = get_logger(__name__)
REMEMBERED = 64  # answers kept to repeat for a command the server sends again
POWER_ANSWER_SECONDS = 2.0  # how long the answer may take to leave before the PC goes down


@dataclass(frozen=True)
class CommandHooks:
    """What the runtime lends the commands: each call returns once it is done."""

    send: Callable[[Payload], None]
    flush: Callable[[float], Awaitable[Any]]  # wait until what was sent has left
    control: Callable[..., Awaitable[Any]]  # (func, *args) on the control thread
    lock: Callable[[], None]
    # Show a message on the overlay with "Got it"; False when no overlay shows.
    show_message: Callable[[StationCommand], bool]


class CommandRunner:
    def __init__(self, control: Any, hooks: CommandHooks, language: str = "en") -> None:
        self._control = control
        self._hooks = hooks
        self._words = words_in(language, only="overlay.")
        self._answers: OrderedDict[UUID, CommandResult] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, payload: Payload) -> bool:
        """Take ``payload`` if it is a staff command; False for anything else."""
        if not isinstance(payload, StationCommand | WakeRelay):
            return False
        if (answer := self._answers.get(payload.id)) is not None:
            self._hooks.send(answer)
            return True
        task = asyncio.get_running_loop().create_task(self._run(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def seen(self, command_id: str) -> None:
        """The customer clicked "Got it" under the message ``command_id``."""
        try:
            ident = UUID(command_id)
        except ValueError:
            return
        self._hooks.send(CommandResult(id=ident, ok=True, detail="Got it", seen=True))

    async def _run(self, command: StationCommand | WakeRelay) -> None:
        log.info("staff_command", kind=getattr(command, "kind", "wake_relay"), id=str(command.id))
        try:
            ok, detail = await self._carry_out(command)
        except Exception as err:  # a backend failure is the command's answer, not a crash
            log.error("staff_command_failed", id=str(command.id), error=repr(err))
            ok, detail = False, f"failed on the PC: {err!r}"[:500]
        if ok is None:
            return  # restart/shutdown: answered already
        self._answer(CommandResult(id=command.id, ok=ok, detail=detail))

    async def _carry_out(self, command: StationCommand | WakeRelay) -> tuple[bool | None, str]:
        hooks = self._hooks
        if isinstance(command, WakeRelay):
            await asyncio.to_thread(send_magic_packet, command.mac, command.address, command.port)
            return True, f"magic packet for {command.mac} sent to {command.address}:{command.port}"
        if command.kind == "message":
            if hooks.show_message(command):
                return True, "shown on screen"
            title = self._words("overlay.message_from_staff")
            await hooks.control(self._control.notify, title, command.text)
            return True, "shown as a notification (no overlay: no Got it)"
        if command.kind == "lock":
            hooks.lock()
            return True, "locked"
        if command.kind == "logoff":
            await hooks.control(self._control.log_off)
            return True, "logged off"
        return await self._power(command)

    async def _power(self, command: StationCommand) -> tuple[bool | None, str]:
        action = "restart" if command.kind == "restart" else "shutdown"
        # The system takes a few seconds to go down (Windows shows a notice first): the
        # answer is sent, and waited for, in that time; afterwards nothing leaves the PC.
        ok = await self._hooks.control(self._control.power, action)
        detail = f"{action} started" if ok else f"the system refused the {action}"
        self._answer(CommandResult(id=command.id, ok=bool(ok), detail=detail))
        await self._hooks.flush(POWER_ANSWER_SECONDS)
        return None, ""

    def _answer(self, result: CommandResult) -> None:
        self._answers[result.id] = result
        while len(self._answers) > REMEMBERED:
            self._answers.popitem(last=False)
        self._hooks.send(result)
