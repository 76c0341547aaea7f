"""The FastAPI application and its composition root. Everything is built once, in
``lifespan`` by :func:`build_services`; nothing connects at import time."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from gameops import __version__
from gameops.server.accounts.endpoints import router as accounts_router
from gameops.server.auth.endpoints import router as auth_router
from gameops.server.auth.passwords import Passwords
from gameops.server.auth.service import Authenticator, LoginLimits, TokenKeys
from gameops.server.bus import EventBus, create_bus
from gameops.server.commands import service as commands
from gameops.server.commands.endpoints import router as commands_router
from gameops.server.commands.wake import WakeSender
from gameops.server.control.consoles import ConsoleController
from gameops.server.control.devices import DeviceHub
from gameops.server.control.endpoints import router as control_router
from gameops.server.control.health import DeviceHealth
from gameops.server.control.pc_agent import PcAgentControl
from gameops.server.control.reconcile import ConsoleWatch
from gameops.server.control.stopped import StoppedClientWatch
from gameops.server.db.engine import Database, create_engine
from gameops.server.errors import ERROR_RESPONSES, Conflict, install_handlers
from gameops.server.events.dispatch import EventDispatcher
from gameops.server.events.endpoints import router as events_router
from gameops.server.floor.endpoints import router as floor_router
from gameops.server.hardening import install as install_hardening
from gameops.server.health import router as health_router
from gameops.server.heap import FrozenHeap
from gameops.server.jobs import Periodic, finish_within
from gameops.server.metrics import Metrics
from gameops.server.observability import RequestContext, count_domain_events
from gameops.server.observability import router as metrics_router
from gameops.server.outbox.relay import Committed, OutboxRelay
from gameops.server.outbox.store import OutboxCommitCheck, announce
from gameops.server.payments.endpoints import router as payments_router
from gameops.server.payments.endpoints import topups_router
from gameops.server.payments.gateway import PaymentGateway
from gameops.server.payments.runtime import gateway_from_settings
from gameops.server.payments.sweeper import PaymentSweeper
from gameops.server.play.control import PlayControl
from gameops.server.play.endpoints import router as play_router
from gameops.server.play.service import PlayDesk, PlayRules
from gameops.server.play.throttle import PcLoginThrottle
from gameops.server.pricing.endpoints import router as pricing_router
from gameops.server.realtime import presence
from gameops.server.realtime.acks import AckRecorder
from gameops.server.realtime.admission import Admission
from gameops.server.realtime.agent_handlers import (
    AgentAuthLimits,
    AgentServices,
    HeartbeatCorrections,
    login_view,
    sync_answers,
)
from gameops.server.realtime.agent_ws import AgentSockets
from gameops.server.realtime.agent_ws import router as agent_ws_router
from gameops.server.realtime.dashboard_ws import FeedServices
from gameops.server.realtime.dashboard_ws import router as dashboard_ws_router
from gameops.server.realtime.heartbeats import HeartbeatBatcher
from gameops.server.realtime.hub import AgentHub
from gameops.server.realtime.presence_writes import PresenceWriter
from gameops.server.realtime.price_board import PriceBoard
from gameops.server.realtime.sync_requests import SyncAnswers
from gameops.server.realtime.token_lookups import TokenLookup
from gameops.server.receipts.endpoints import router as receipts_router
from gameops.server.receipts.service import Receipts
from gameops.server.reports.endpoints import router as reports_router
from gameops.server.reservations import service as reservations
from gameops.server.reservations.desk import DeskBookings
from gameops.server.reservations.endpoints import router as reservations_router
from gameops.server.reservations.watch import ReservationWatch
from gameops.server.sessions.card_sales import CardTimeSales
from gameops.server.sessions.endpoints import router as sessions_router
from gameops.server.sessions.expiry import ExpiryScheduler
from gameops.server.sessions.quotes import router as quotes_router
from gameops.server.sessions.selling import Selling
from gameops.server.sessions.waiting import WaitingWatch
from gameops.server.settings import Settings, get_settings
from gameops.server.shifts.endpoints import router as shifts_router
from gameops.server.shifts.service import ShiftTill
from gameops.server.shop.endpoints import router as shop_router
from gameops.server.stations.device_secrets import DeviceSecrets
from gameops.server.stations.endpoints import router as stations_router
from gameops.server.throttle import Throttle, build_throttle
from gameops.server.users.endpoints import router as users_router
from gameops.server.users.service import ensure_admin
from gameops.server.web.router import mount_web

log = structlog.get_logger(__name__)
# Services.stop: the whole (under the 15 s a replica has after SIGTERM), and the least any
# one part gets when earlier ones used it up (20 parts: 10 + 20 * 0.2 = 14 s at worst).
STOP_SECONDS = 10.0
# The agents' reconnect messages leave within this at shutdown (before the steps above).
SEND_AWAY_SECONDS = 2.0
STOP_STEP_SECONDS = 0.2


@dataclass(frozen=True)
class Services:
    """The server's object graph, built once by :func:`build_services` (the composition
    root): every part gets what it needs through its constructor, nothing is filled in
    later. Requests and sockets receive single parts through ``deps.py``."""

    settings: Settings
    database: Database
    bus: EventBus
    relay: OutboxRelay
    dispatcher: EventDispatcher
    token_keys: TokenKeys
    passwords: Passwords
    throttle: Throttle
    authenticator: Authenticator
    metrics: Metrics
    device_secrets: DeviceSecrets
    hub: AgentHub
    heartbeats: HeartbeatBatcher
    presence: PresenceWriter
    admission: Admission
    heap: FrozenHeap
    acks: AckRecorder
    expiry: ExpiryScheduler
    consoles: ConsoleController
    console_watch: ConsoleWatch
    payment_gateway: PaymentGateway | None
    time_sales: CardTimeSales
    selling: Selling
    payments_sweeper: PaymentSweeper
    presence_sweeper: Periodic
    stopped_clients: StoppedClientWatch | None  # with a venue router configured
    waiting_for_pcs: WaitingWatch
    wake_sender: WakeSender
    command_sweeper: Periodic
    play: PlayControl
    play_desk: PlayDesk
    reservations: ReservationWatch
    price_board: PriceBoard

    async def start(self) -> None:
        await self.bus.start()
        self.relay.start()
        await _bootstrap_admin(self.settings, self.database, self.passwords)
        await self.hub.start()
        self.heartbeats.start()
        self.acks.start()
        await self.expiry.start()
        self.console_watch.start()
        self.presence_sweeper.start()
        self.heap.start()
        self.command_sweeper.start()
        self.payments_sweeper.start()
        self.waiting_for_pcs.start()
        self.play.start()
        self.reservations.start()
        self.price_board.start()
        if self.stopped_clients is not None:
            self.stopped_clients.start()

    async def stop(self) -> None:
        """Stops the parts in order, all within ``STOP_SECONDS`` (a replica exits within 15 s
        of SIGTERM): each part gets what is left of that, at least ``STOP_STEP_SECONDS``; one
        that does not finish in it is cancelled and left behind, and the next one stops."""
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self.stopped_clients is not None:
            steps.append(("stopped-client watch", self.stopped_clients.stop))
        steps += [
            ("waiting-for-PC watch", self.waiting_for_pcs.stop),
            ("play control", self.play.stop),
            ("reservations", self.reservations.stop),
            ("price board", self.price_board.stop),
            ("payments sweeper", self.payments_sweeper.stop),
            ("presence sweeper", self.presence_sweeper.stop),
            ("frozen heap", self.heap.stop),
            ("command sweeper", self.command_sweeper.stop),
            ("console watch", self.console_watch.stop),
            ("consoles", self.consoles.close),
            ("agent hub", self.hub.close),
            ("presence writes", self.presence.stop),
            ("heartbeats", self.heartbeats.stop),
            ("acks", self.acks.stop),
            ("expiry", self.expiry.stop),
            ("outbox relay", self.relay.stop),
            ("bus", self.bus.close),
            ("throttle", self.throttle.close),
            ("database", self.database.dispose),
        ]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_SECONDS
        for what, stop in steps:
            left = max(deadline - loop.time(), STOP_STEP_SECONDS)
            await finish_within(stop(), left, what)


def build_services(settings: Settings) -> Services:
    """The composition root: the one place the server's objects are built and wired."""
    bus = create_bus(settings.redis_url, settings.redis_prefix)
    dispatcher = EventDispatcher()
    committed = asyncio.Event()
    # One process (no Redis bus): its agents get their commands at the commit.
    single_process = settings.redis_url is None

    async def settle(db: AsyncSession) -> None:
        await dispatcher.settle(db)
        await announce(db)  # PostgreSQL: the relay hears of it at the commit

    database = Database(
        create_engine(settings.database_url),
        before_commit=settle,
        committed=Committed(bus, committed, deliver_here=single_process),
        commit_check=OutboxCommitCheck(),
    )
    relay = OutboxRelay(
        database,
        bus,
        committed,
        poll_seconds=settings.outbox_poll_seconds,
        keep_sent=timedelta(minutes=settings.outbox_keep_sent_minutes),
    )
    # Console plug and router passwords are stored encrypted with this key.
    secrets = DeviceSecrets(settings.device_secret())
    metrics = Metrics()
    devices = DeviceHub(settings, secrets, metrics)
    consoles = ConsoleController(database, settings, devices, DeviceHealth(database))
    # Read at scrape time: /metrics (observability.py).
    metrics.watch(relay.lag_seconds, lambda: relay.publish_failures, devices.breaker_states)
    count_domain_events(dispatcher, metrics)
    # Station control reacts to the session events inside the session's transaction.
    PcAgentControl(settings.logoff_grace_seconds).subscribe(dispatcher)
    consoles.subscribe(dispatcher)
    # Every payment joins the till's open shift; cash without one is refused.
    ShiftTill(settings).subscribe(dispatcher)
    # ...and gets its receipt, numbered in the same transaction.
    Receipts(settings).subscribe(dispatcher)
    play_rules = PlayRules.from_settings(settings)
    play = PlayControl(database, play_rules, settings.play_renew_poll_seconds)
    play.subscribe(dispatcher)
    gateway = gateway_from_settings(settings)
    time_sales = CardTimeSales()
    keys, passwords = TokenKeys(settings.jwt_secret(), settings), Passwords()
    # A server going away sends its agents back as fast as it measured it could take them.
    admission = Admission(settings.agent_handshakes_at_once)
    hub = AgentHub(bus, admission.reconnect_rate)
    # Guesses (logins, agent tokens) are limited in Redis when replicas share one.
    throttle = build_throttle(
        settings.redis_url,
        settings.redis_prefix,
        lambda rule: metrics.rate_limited.labels(rule.name).inc(),
    )
    return Services(
        settings=settings,
        database=database,
        bus=bus,
        relay=relay,
        dispatcher=dispatcher,
        token_keys=keys,
        passwords=passwords,
        throttle=throttle,
        authenticator=Authenticator(
            database, keys, passwords, throttle, LoginLimits.from_settings(settings), metrics
        ),
        metrics=metrics,
        device_secrets=secrets,
        hub=hub,
        heartbeats=_heartbeats(settings, database, hub),
        presence=PresenceWriter(database, login_view(play_rules)),
        admission=admission,
        heap=FrozenHeap(
            lambda: admission.measured_rate,
            lambda generation, seconds: metrics.gc_pauses.labels(str(generation)).observe(seconds),
        ),
        acks=AckRecorder(database),
        expiry=ExpiryScheduler(database, bus, settings.expiry_sweep_seconds),
        consoles=consoles,
        console_watch=ConsoleWatch(database, settings, consoles),
        payment_gateway=gateway,
        time_sales=time_sales,
        selling=Selling(
            database,
            settings,
            consoles,
            gateway,
            DeskBookings(reservations.rules_from_settings(settings)),
        ),
        payments_sweeper=PaymentSweeper(database, settings, gateway, time_sales),
        presence_sweeper=_presence_sweeper(settings, database),
        stopped_clients=StoppedClientWatch.from_settings(settings, database.transaction),
        waiting_for_pcs=WaitingWatch(database, settings.agent_start_wait_minutes),
        wake_sender=WakeSender(database),
        command_sweeper=_command_sweeper(settings, database),
        play=play,
        play_desk=PlayDesk(
            play_rules,
            PcLoginThrottle(throttle, settings.login_failures_per_minute),
            passwords,
            database,
            asyncio.Semaphore(settings.play_logins_at_once),
        ),
        reservations=ReservationWatch(
            database,
            reservations.rules_from_settings(settings),
            settings.reservation_poll_seconds,
        ),
        price_board=PriceBoard(database, hub, play_rules),
    )


def _expose(app: FastAPI, services: Services) -> None:
    """Hands the built parts to requests and sockets (read by ``deps.py`` and the sockets)."""
    state = app.state
    state.services = services
    state.database = services.database
    state.bus = services.bus
    state.relay = services.relay
    state.token_keys = services.token_keys
    state.passwords = services.passwords
    state.authenticator = services.authenticator
    state.throttle = services.throttle
    state.device_secrets = services.device_secrets
    state.payment_gateway = services.payment_gateway
    state.time_sales = services.time_sales
    state.selling = services.selling
    state.play_desk = services.play_desk
    state.wake_sender = services.wake_sender
    state.agent_services = AgentServices(
        services.settings,
        services.database,
        services.hub,
        services.heartbeats,
        services.presence,
        TokenLookup(services.database),
        SyncAnswers(services.database, sync_answers(services.settings)),
        services.admission,
        services.acks,
        AgentAuthLimits.from_settings(services.settings, services.throttle),
        services.metrics,
        services.play_desk,
    )
    state.feed_services = FeedServices(
        services.settings,
        services.database,
        services.bus,
        services.token_keys.secret,
        services.metrics,
    )


async def _bootstrap_admin(settings: Settings, database: Database, passwords: Passwords) -> None:
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    try:
        async with database.transaction() as db:
            generated = await ensure_admin(db, passwords, settings.admin_username, password)
    except Conflict:
        return  # replicas started together on a new database: another one created it
    if generated:
        # Shown once, on the run that created the account; only its hash is stored.
        print(
            f"\n  First admin created: username {settings.admin_username!r}, "
            f"password {generated!r}\n  It is shown only now. Keep it safe.\n",
            file=sys.stderr,
            flush=True,
        )
        log.warning("first admin created with a generated password", user=settings.admin_username)


def _presence_sweeper(settings: Settings, database: Database) -> Periodic:
    interval = settings.heartbeat_interval_seconds
    # One interval more than a connection's own silence limit, so live ones are never hit.
    silent_for = timedelta(seconds=interval * (settings.heartbeat_misses_allowed + 1))

    async def sweep() -> None:
        async with database.transaction() as db:
            await presence.sweep_stale(db, silent_for)

    return Periodic("presence-sweep", interval, sweep)


def _heartbeats(settings: Settings, database: Database, hub: AgentHub) -> HeartbeatBatcher:
    # Within half an interval, so the stale-presence sweep never sees a live agent as gone.
    flush = min(settings.heartbeat_flush_seconds, settings.heartbeat_interval_seconds / 2)
    return HeartbeatBatcher(database, flush, HeartbeatCorrections(settings, database, hub))


def _command_sweeper(settings: Settings, database: Database) -> Periodic:
    answer, queue = settings.command_answer_seconds, settings.command_queue_minutes

    async def sweep() -> None:
        async with database.transaction() as db:
            await commands.sweep_unanswered(db, answer, queue)

    return Periodic("command-sweep", min(30.0, max(0.5, answer / 4)), sweep)


async def before_shutdown(app: FastAPI) -> None:
    """Once the server has stopped accepting, before its sockets are cut: the agents are
    told to reconnect, spread out (to another replica, or to this one restarted)."""
    services: Services | None = getattr(app.state, "services", None)
    if services is not None:
        await services.hub.send_away(within=SEND_AWAY_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = build_services(app.state.settings)
    _expose(app, services)
    await services.start()
    log.info(
        "server started",
        database=services.settings.redacted_database_url,
        bus=type(services.bus).__name__,
    )
    try:
        yield
    finally:
        await services.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="GameOps", version=__version__, lifespan=lifespan)
    app.state.settings = settings or get_settings()
    install_handlers(app)
    app.add_middleware(AgentSockets)  # innermost: under the request id and the hardening
    app.add_middleware(RequestContext)
    if app.state.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=app.state.settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    # The sockets first: a route is found by trying each in turn, and every handshake of a
    # reconnect storm would otherwise be matched against the whole API first (0.7 ms each).
    app.include_router(agent_ws_router)
    app.include_router(dashboard_ws_router)
    api = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    for router in (auth_router, users_router, stations_router, sessions_router, events_router):
        api.include_router(router)
    for router in (accounts_router, quotes_router, pricing_router, payments_router):
        api.include_router(router)
    for router in (topups_router, reports_router, floor_router, control_router):
        api.include_router(router)
    api.include_router(commands_router)
    for router in (shifts_router, receipts_router, shop_router):
        api.include_router(router)
    api.include_router(play_router)
    api.include_router(reservations_router)
    app.include_router(api)
    app.include_router(health_router)
    app.include_router(metrics_router)
    mount_web(app)
    install_hardening(app)
    return app
