"""The Stripe emulator served on a loopback port inside the test's event loop, and a
real ``stripe`` SDK client for playing the customer's browser (paying an intent)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import stripe
import uvicorn

from gameops.sim.stripe import StripeEmulator, create_app


class EmulatorServer:
    def __init__(self, emulator: StripeEmulator | None = None) -> None:
        self.emulator = emulator or StripeEmulator()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # log_config=None, as the server's own: uvicorn's default dictConfig makes its loggers
        # stop propagating for the rest of the process (a later test's logs lost their lines).
        config = uvicorn.Config(create_app(self.emulator), log_config=None, lifespan="off")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        for _ in range(500):
            if self._server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("the Stripe emulator did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        self._socket.close()

    def sdk(self, api_key: str | None = None, retries: int = 0) -> stripe.StripeClient:
        return stripe.StripeClient(
            api_key or self.emulator.api_key,
            base_addresses={"api": self.base_url},
            http_client=stripe.HTTPXClient(timeout=10),
            max_network_retries=retries,
        )

    async def pay(self, client_secret: str, card: str = "pm_card_visa") -> Any:
        """What the customer's browser does with the client secret: confirm with a card."""
        intent_id = client_secret.split("_secret_")[0]
        params: Any = {"payment_method": card}
        return await self.sdk().v1.payment_intents.confirm_async(intent_id, params)


def free_port() -> int:
    """A loopback port nothing listens on (for a gateway that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
