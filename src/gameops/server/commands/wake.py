"""Wake-on-LAN sent by the server itself (``GAMEOPS_WAKE_FROM_SERVER``: the server is on the
venue's LAN): after the command's commit, never inside its transaction."""

from __future__ import annotations

import asyncio
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.protocol.wake import send_magic_packet
from gameops.server.commands import service
from gameops.server.db.engine import Database, after_commit

log = structlog.get_logger(__name__)


class WakeSender:
    def __init__(self, database: Database) -> None:
        self._database = database

    def after_commit(
        self, db: AsyncSession, command_id: uuid.UUID, mac: str, address: str, port: int
    ) -> None:
        after_commit(db, lambda: self.send(command_id, mac, address, port))

    async def send(self, command_id: uuid.UUID, mac: str, address: str, port: int) -> None:
        try:
            await asyncio.to_thread(send_magic_packet, mac, address, port)
            ok, detail = True, f"magic packet for {mac} sent from the server to {address}:{port}"
        except OSError as err:
            log.warning("wake failed", mac=mac, address=address, error=str(err))
            ok, detail = False, f"the server could not send the magic packet: {err}"
        async with self._database.transaction() as db:
            await service.finish(db, command_id, ok, detail)
