"""The FastAPI application. Everything that connects to something is built in ``lifespan``;
nothing connects at import time."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gameops import __version__
from gameops.devices.routeros import RouterOs
from gameops.server.accounts.endpoints import router as accounts_router
from gameops.server.auth.endpoints import router as auth_router
from gameops.server.bus import create_bus
from gameops.server.context import AppContext
from gameops.server.control.base import ControllerRegistry, NoDeviceController
from gameops.server.control.consoles import ConsoleController
from gameops.server.control.devices import DeviceHub, router_tls
from gameops.server.control.health import DeviceHealth
from gameops.server.control.pc_agent import PcAgentController
from gameops.server.control.secrets import DeviceSecrets
from gameops.server.db.engine import create_engine, create_sessionmaker
from gameops.server.deps import ContextDep
from gameops.server.errors import install_handlers
from gameops.server.events.endpoints import router as events_router
from gameops.server.floor.endpoints import router as floor_router
from gameops.server.jobs import Periodic
from gameops.server.payments.endpoints import router as payments_router
from gameops.server.payments.runtime import PaymentsRuntime
from gameops.server.pricing.endpoints import router as pricing_router
from gameops.server.realtime import presence
from gameops.server.realtime.acks import AckRecorder
from gameops.server.realtime.agent_ws import router as agent_ws_router
from gameops.server.realtime.dashboard_ws import router as dashboard_ws_router
from gameops.server.realtime.hub import AgentHub
from gameops.server.reports.endpoints import router as reports_router
from gameops.server.sessions.endpoints import router as sessions_router
from gameops.server.sessions.expiry import ExpiryScheduler
from gameops.server.settings import Settings, get_settings
from gameops.server.stations.domain import StationType
from gameops.server.stations.endpoints import router as stations_router
from gameops.server.stations.stopped import check_stopped_clients
from gameops.server.users.endpoints import router as users_router
from gameops.server.users.service import ensure_admin
from gameops.server.web.router import mount_web

log = structlog.get_logger(__name__)


async def build_context(settings: Settings) -> AppContext:
    engine = create_engine(settings.database_url)
    context = AppContext(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        bus=create_bus(settings.redis_url, settings.redis_prefix),
        jwt_secret=settings.jwt_secret(),
    )
    # Console plug and router passwords are stored encrypted with this key.
    secrets = DeviceSecrets(settings.device_secret())
    context.controllers = ControllerRegistry(
        {
            StationType.PC: PcAgentController(settings.logoff_grace_seconds),
            StationType.CONSOLE: NoDeviceController(),
        },
        consoles=ConsoleController(settings, DeviceHub(settings, secrets), DeviceHealth()),
        secrets=secrets,
    )
    context.hub = AgentHub(context.bus)
    context.acks = AckRecorder(context)
    context.expiry = ExpiryScheduler(context)
    return context


async def _bootstrap_admin(context: AppContext) -> None:
    settings = context.settings
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    async with context.transaction() as db:
        generated = await ensure_admin(db, settings.admin_username, password)
    if generated:
        # Shown once, on the run that created the account; only its hash is stored.
        print(
            f"\n  First admin created: username {settings.admin_username!r}, "
            f"password {generated!r}\n  It is shown only now. Keep it safe.\n",
            file=sys.stderr,
            flush=True,
        )
        log.warning("first admin created with a generated password", user=settings.admin_username)


def _presence_sweeper(context: AppContext) -> Periodic:
    interval = context.settings.heartbeat_interval_seconds
    # One interval more than a connection's own silence limit, so live ones are never hit.
    silent_for = timedelta(seconds=interval * (context.settings.heartbeat_misses_allowed + 1))

    async def sweep() -> None:
        async with context.transaction() as db:
            await presence.sweep_stale(db, silent_for)

    return Periodic("presence-sweep", interval, sweep)


def _stopped_client_watch(context: AppContext) -> tuple[Periodic, RouterOs] | None:
    """With a venue router configured: is a PC whose client was stopped still on the LAN?"""
    settings = context.settings
    if settings.venue_router_host is None:
        return None
    password = settings.venue_router_password
    router = RouterOs(
        settings.venue_router_host,
        settings.venue_router_port,
        username=settings.venue_router_username,
        password=password.get_secret_value() if password else "",
        ssl_context=router_tls(verify=settings.venue_router_tls_verify)
        if settings.venue_router_tls
        else None,
    )

    async def check() -> None:
        await check_stopped_clients(context.transaction, router)

    return Periodic("stopped-clients", settings.stopped_client_check_seconds, check), router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    context = await build_context(app.state.settings)
    app.state.context = context
    await context.bus.start()
    await _bootstrap_admin(context)
    await context.hub.start()
    context.acks.start()
    await context.expiry.start()
    await context.controllers.start(context)
    presence_sweeper = _presence_sweeper(context)
    presence_sweeper.start()
    stopped_watch = _stopped_client_watch(context)
    if stopped_watch is not None:
        stopped_watch[0].start()
    payments = PaymentsRuntime.start(app, context)
    log.info(
        "server started",
        database=context.settings.redacted_database_url,
        bus=type(context.bus).__name__,
    )
    try:
        yield
    finally:
        await payments.stop()
        await presence_sweeper.stop()
        if stopped_watch is not None:
            await stopped_watch[0].stop()
            await stopped_watch[1].shutdown()
        await context.controllers.stop()
        await context.hub.close()
        await context.acks.stop()
        await context.expiry.stop()
        await context.bus.close()
        await context.engine.dispose()


health_router = APIRouter(tags=["health"])


@health_router.get("/health")
async def health(context: ContextDep) -> JSONResponse:
    """Liveness for load balancers: 200 when the database and the bus answer, else 503."""
    report: dict[str, str] = {}
    try:
        async with context.sessionmaker() as db:
            await db.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as err:
        report["database"] = f"error: {type(err).__name__}"
    try:
        await context.bus.ping()
        report["bus"] = "ok"
    except Exception as err:
        report["bus"] = f"error: {type(err).__name__}"
    healthy = all(value == "ok" for value in report.values())
    body = {"status": "healthy" if healthy else "unhealthy", "version": __version__, **report}
    return JSONResponse(body, status_code=200 if healthy else 503)


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="GameOps", version=__version__, lifespan=lifespan)
    app.state.settings = settings or get_settings()
    install_handlers(app)
    if app.state.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=app.state.settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    api = APIRouter(prefix="/api/v1")
    for router in (auth_router, users_router, stations_router, sessions_router, events_router):
        api.include_router(router)
    for router in (accounts_router, pricing_router, payments_router, reports_router):
        api.include_router(router)
    api.include_router(floor_router)
    app.include_router(api)
    app.include_router(health_router)
    app.include_router(agent_ws_router)
    app.include_router(dashboard_ws_router)
    mount_web(app)
    return app
