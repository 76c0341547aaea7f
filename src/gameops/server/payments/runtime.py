"""Payment machinery that lives as long as the app: the gateway and the sweeper that
settles card payments nobody confirmed and cancels the ones never paid."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gameops.server.context import AppContext
from gameops.server.jobs import Periodic
from gameops.server.payments.gateway import PaymentGateway, StripeGateway
from gameops.server.payments.sweeper import sweep


class PaymentsRuntime:
    def __init__(self, gateway: PaymentGateway | None, sweeper: Periodic) -> None:
        self.gateway = gateway
        self._sweeper = sweeper

    @classmethod
    def start(cls, app: FastAPI, context: AppContext) -> PaymentsRuntime:
        settings = context.settings
        gateway = (
            StripeGateway.from_settings(settings) if settings.payment_gateway == "stripe" else None
        )
        app.state.payment_gateway = gateway

        async def tick() -> None:
            await sweep(context, gateway)

        sweeper = Periodic("payments-sweep", settings.payments_sweep_seconds, tick)
        sweeper.start()
        return cls(gateway, sweeper)

    async def stop(self) -> None:
        await self._sweeper.stop()


def get_gateway(request: Request) -> PaymentGateway | None:
    gateway: PaymentGateway | None = getattr(request.app.state, "payment_gateway", None)
    return gateway


GatewayDep = Annotated[PaymentGateway | None, Depends(get_gateway)]
