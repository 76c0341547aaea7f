"""The one settings object. Environment variables use the prefix ``GAMEOPS_``."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gameops.i18n import LANGUAGES

SECRET_KEY_FILE = "secret_key"
DEVICE_KEY_FILE = "device_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAMEOPS_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    # Unset: a SQLite file in data_dir.
    database_url: str = ""
    # Unset: the in-process event bus (one server process).
    redis_url: str | None = None
    # Channel prefix on Redis, so several venues (or test runs) can share one Redis.
    redis_prefix: str = "gameops:"
    # Unset: generated on first run and stored in data_dir (never a constant in code).
    secret_key: SecretStr | None = None
    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    # Comma-separated in the environment: GAMEOPS_CORS_ORIGINS=http://a,http://b
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # HTTPS and WSS: a PEM certificate (chain) and its key, both or neither. Unset: plain
    # HTTP (or TLS ends at a reverse proxy). `gameops tls self-signed` makes a pair.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    log_level: str = "INFO"
    # Bearer token Prometheus sends to scrape /metrics. Unset: /metrics answers 404.
    metrics_token: SecretStr | None = None
    log_format: Literal["console", "json"] = "console"

    currency: str = "USD"
    # The largest amount of money one request may move or charge (minor units): a top-up,
    # an adjustment, a sale's price, a rate. Beyond it: 422. Columns are 64-bit.
    max_amount: int = Field(default=100_000_000_000, gt=0, le=2**53)
    max_session_minutes: int = Field(default=24 * 60, gt=0)
    access_token_minutes: int = Field(default=30, gt=0)
    refresh_token_days: int = Field(default=7, gt=0)
    # A refresh token is used once. Presented again within this grace (two tabs refreshing
    # at once, a page left before its refresh's answer came) it gets another pair; later,
    # its whole family (that login) is revoked.
    refresh_reuse_grace_seconds: float = Field(default=10, ge=0)
    # Rate limits on guesses, in the `limits` notation ("10 per 15 minutes"): login
    # attempts per account since its last success, failed logins per client address, and
    # failed agent-token attempts per address and per station.
    login_limit_per_account: str = "10 per 15 minutes"
    login_limit_per_ip: str = "50 per 15 minutes"
    agent_auth_limit_per_ip: str = "30 per minute"
    agent_auth_limit_per_station: str = "10 per minute"

    heartbeat_interval_seconds: int = Field(default=30, gt=0)
    # A station whose agent sent nothing for this many heartbeat intervals is offline.
    heartbeat_misses_allowed: int = Field(default=3, gt=0)
    # Heartbeats are written in one transaction this often (last seen, metrics), not one
    # each; the database's last_seen_at lags by this much. At most half an interval.
    heartbeat_flush_seconds: float = Field(default=2.0, gt=0)
    agent_auth_timeout_seconds: float = Field(default=10.0, gt=0)
    # Agent handshakes in progress at once, at least (more, as many as the server finishes
    # in a few seconds: realtime/admission.py); beyond, an agent is told to come back
    # later (close 1013 with a delay) rather than wait in a queue until it times out.
    agent_handshakes_at_once: int = Field(default=200, gt=0)
    # Repeated tamper reports of one kind from one station within this window are recorded
    # as one event with their count (an agent flooding them cannot flood the audit log).
    tamper_window_seconds: float = Field(default=10.0, gt=0)
    # ...after the first this many of the window, which are recorded at once: a kill loop's
    # few reports a minute each reach the dashboard, a flood does not.
    tamper_burst: int = Field(default=5, gt=0)
    logoff_grace_seconds: int = Field(default=60, ge=0)
    expiry_sweep_seconds: float = Field(default=30.0, gt=0)
    # Transport-level pings; the protocol heartbeat already proves liveness, so these can be rare.
    ws_ping_interval_seconds: float = Field(default=60.0, gt=0)
    ws_ping_timeout_seconds: float = Field(default=30.0, gt=0)
    shutdown_grace_seconds: int = Field(default=10, gt=0)
    # The outbox relay sends this process's commits at once; this often it also looks for
    # other replicas' (and retries after a bus or database failure).
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    # Sent outbox rows are kept this long (to look into an incident), then deleted.
    outbox_keep_sent_minutes: float = Field(default=60, ge=0)

    # Money (issue 4). Time-of-day prices and daily reports read the clock in this zone.
    venue_timezone: str = "UTC"
    # The dashboard's language for users who chose none (a gameops.i18n catalogue).
    venue_language: str = "en"
    # Early stop: give the unused paid time back to the customer's balance, pro rata.
    # (Older switch; ``stop_refund`` below says it in full and wins when set.)
    refund_unused_on_stop: bool = False
    # "none" disables CARD; "stripe" needs stripe_api_key.
    payment_gateway: Literal["none", "stripe"] = "none"
    stripe_api_key: SecretStr | None = None
    # Unset: Stripe itself. Point it at `gameops sim stripe` for the demo and the tests.
    stripe_api_base: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    gateway_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retries reuse the request's idempotency key, so they can never charge twice.
    gateway_max_retries: int = Field(default=1, ge=0)
    # A card sale not paid within this time is cancelled and its station released.
    pending_payment_minutes: float = Field(default=15, gt=0)
    payments_sweep_seconds: float = Field(default=30.0, gt=0)
    idempotency_key_hours: int = Field(default=24, gt=0)

    # The till (issue 13, docs/money.md). Early stop: the unused share of what was paid goes
    # back in cash from the till, to the customer's balance, or not at all.
    stop_refund: Literal["none", "balance", "cash"] | None = None
    # Cash needs an open shift (a counted float); false only for a venue without a till.
    require_open_shift: bool = True
    # Notes and coins offered in the cash count, in minor units.
    cash_denominations: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1]
    )
    # Tax in basis points (2000 = 20 %): the venue's rate for play time, and the default
    # rate of a new product. Prices are entered gross (tax included) or net (tax added).
    tax_rate_bp: int = Field(default=0, ge=0, le=10000)
    prices_include_tax: bool = True
    tax_name: str = "VAT"
    # Printed on receipts.
    venue_name: str = "GameOps venue"
    venue_address: str = ""
    venue_tax_id: str = ""
    # A PC's paid time starts when its agent takes the session; past this, staff are
    # prompted to move the sale to another station or refund it.
    agent_start_wait_minutes: float = Field(default=5, gt=0)

    # Console devices (Shelly plugs, MikroTik routers); see docs/consoles.md.
    # Unset: generated on first run and stored in data_dir; encrypts device passwords at rest.
    device_key: SecretStr | None = None
    device_timeout_seconds: float = Field(default=3.0, gt=0)
    device_retries: int = Field(default=1, ge=0)
    device_backoff_seconds: float = Field(default=0.2, ge=0)
    # After this many failed calls in a row a device is skipped (fails fast) for a while.
    device_breaker_failures: int = Field(default=3, gt=0)
    device_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # Network is cut at once at a console's end; power after this grace (saves, updates).
    console_power_grace_seconds: float = Field(default=120.0, ge=0)
    # The plug's own auto-off fires this long after the session's end (more than the grace).
    plug_timer_margin_seconds: int = Field(default=180, ge=0)
    router_timeout_margin_seconds: int = Field(default=60, ge=0)
    router_address_list: str = "gameops-playing"
    device_reconcile_seconds: float = Field(default=30.0, gt=0)
    power_sample_seconds: float = Field(default=60.0, gt=0)
    power_retention_days: int = Field(default=30, gt=0)
    # A MikroTik router that sees the venue's PCs (RouterOS API): while a station's client
    # is stopped, it is asked every few seconds whether the PC is still on the network.
    venue_router_host: str | None = None
    venue_router_port: int = Field(default=8729, ge=1, le=65535)
    venue_router_tls: bool = True
    venue_router_tls_verify: bool = True  # false: a self-signed api-ssl certificate
    venue_router_username: str = "admin"
    venue_router_password: SecretStr | None = None
    stopped_client_check_seconds: float = Field(default=15.0, gt=0)
    # Self-service at the PC (issue 12 §1): pay-as-you-go billing in blocks charged at
    # each block's start; renewals a little ahead of a block's end.
    play_block_seconds: int = Field(default=15 * 60, gt=0)
    play_renew_lead_seconds: float = Field(default=30.0, ge=0)
    play_renew_poll_seconds: float = Field(default=5.0, gt=0)
    play_min_balance: int = Field(default=0, ge=0)  # minor units; 0: one block's price
    ticket_valid_days: int = Field(default=30, gt=0)
    login_failures_per_minute: int = Field(default=5, gt=0)  # per station and per account
    # Reservations (issue 12 §2): a deposit taken from the balance at booking (0: none),
    # credited against play when the member logs in at the booked PC. The PC is held for
    # the member from ``reservation_notice_minutes`` before the start; nobody logged in by
    # ``reservation_no_show_minutes`` after it: released, the deposit kept or refunded.
    reservation_deposit: int = Field(default=500, ge=0)
    reservation_notice_minutes: float = Field(default=15, ge=0)
    reservation_no_show_minutes: float = Field(default=15, gt=0)
    reservation_no_show_keeps_deposit: bool = True
    reservation_days_ahead: int = Field(default=30, gt=0)  # the furthest a booking may start
    reservation_poll_seconds: float = Field(default=5.0, gt=0)
    # PC logins handled at once; the rest wait their turn (500 at a tournament's start took
    # every pooled connection, and the pool's wait timed out for logins and heartbeats).
    play_logins_at_once: int = Field(default=8, gt=0)
    # Wake-on-LAN (staff "wake" command). True: the server is on the venue's LAN and sends
    # the magic packet itself; false: an online agent on the PC's subnet relays it.
    wake_from_server: bool = False
    # Where the server sends it; unset: the directed broadcast of the PC's reported subnet.
    wake_broadcast_address: str | None = None
    wake_port: int = Field(default=9, ge=1, le=65535)
    # A message or lock left for an offline PC is dropped (FAILED, "expired") after this.
    command_queue_minutes: int = Field(default=60, gt=0)
    # A restart, shutdown, log-off or wake with no answer after this long is failed as such.
    command_answer_seconds: int = Field(default=120, gt=0)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("currency must be an ISO 4217 code such as USD or EUR")
        return value

    @field_validator(
        "login_limit_per_account",
        "login_limit_per_ip",
        "agent_auth_limit_per_ip",
        "agent_auth_limit_per_station",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as err:
            raise ValueError("a rate limit such as '10 per 15 minutes'") from err
        return value

    @field_validator("venue_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError("venue_timezone must be an IANA zone such as Europe/Berlin") from err
        return value

    @field_validator("venue_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"venue_language must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith("["):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cash_denominations", mode="before")
    @classmethod
    def _split_denominations(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith("["):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @property
    def stop_refund_mode(self) -> str:
        """Where an early stop's unused money goes: none, balance or cash."""
        if self.stop_refund is not None:
            return self.stop_refund
        return "balance" if self.refund_unused_on_stop else "none"

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        given = [path for path in (self.tls_certfile, self.tls_keyfile) if path is not None]
        if len(given) == 1:
            raise ValueError("set both tls_certfile and tls_keyfile, or neither")
        for path in given:
            if not path.is_file():
                raise ValueError(f"TLS file {path} does not exist")
        return self

    @model_validator(mode="after")
    def _replicas_share_keys(self) -> Settings:
        # Each replica would otherwise generate its own: tokens signed by one would be
        # refused by the others, and device passwords unreadable.
        missing = [
            name
            for name, key in (
                ("GAMEOPS_SECRET_KEY", self.secret_key),
                ("GAMEOPS_DEVICE_KEY", self.device_key),
            )
            if key is None or not key.get_secret_value()
        ]
        if self.redis_url and missing:
            raise ValueError(
                "GAMEOPS_REDIS_URL is set (several replicas): set "
                f"{' and '.join(missing)} explicitly, the same on every replica"
            )
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls_certfile is not None else "http"

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'gameops.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def redacted_database_url(self) -> str:
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", self.database_url)

    def jwt_secret(self) -> str:
        """The signing key: from settings, else the one stored in data_dir, else a new one."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return load_or_create_secret(self.data_dir / SECRET_KEY_FILE)

    def device_secret(self) -> str:
        """The key that encrypts device passwords: from settings, else stored in data_dir."""
        if self.device_key is not None:
            return self.device_key.get_secret_value()
        return load_or_create_secret(self.data_dir / DEVICE_KEY_FILE)


def load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: if two processes race on first start, one wins and the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
