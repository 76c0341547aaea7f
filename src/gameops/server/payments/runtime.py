"""The payment parts the app was built with, for requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gameops.server.payments.gateway import PaymentGateway, StripeGateway
from gameops.server.payments.settlement import TimeSales
from gameops.server.settings import Settings


def gateway_from_settings(settings: Settings) -> PaymentGateway | None:
    return StripeGateway.from_settings(settings) if settings.payment_gateway == "stripe" else None


def get_gateway(request: Request) -> PaymentGateway | None:
    gateway: PaymentGateway | None = getattr(request.app.state, "payment_gateway", None)
    return gateway


GatewayDep = Annotated[PaymentGateway | None, Depends(get_gateway)]


def get_time_sales(request: Request) -> TimeSales:
    sales: TimeSales = request.app.state.time_sales
    return sales


TimeSalesDep = Annotated[TimeSales, Depends(get_time_sales)]
