"""The server's Prometheus metrics (``/metrics``, prometheus-client).

One :class:`Metrics` per app, with a registry of its own (several apps can live in one
process, as in the tests), built by the composition root and handed to the parts that count.
What is read rather than counted (outbox lag, breaker states) is read at scrape time
through the callbacks given to :meth:`Metrics.watch`. This module imports no
domain, so every layer may count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Requests: a few milliseconds to the gateway's timeout.
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Expiries: how long after its end a session was ended (sub-second when all is well).
_LAG = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_latency = Histogram(
            "gameops_http_request_duration_seconds",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            buckets=_LATENCY,
            registry=r,
        )
        self.websockets = Gauge(
            "gameops_websocket_connections",
            "Open WebSocket connections: agent (PC agents), dashboard (staff screens).",
            ["kind"],
            registry=r,
        )
        self.messages = Counter(
            "gameops_websocket_messages_total",
            "WebSocket messages by connection kind, direction (in, out) and message type.",
            ["kind", "direction", "type"],
            registry=r,
        )
        self._message_counters: dict[tuple[str, str, str], Counter] = {}
        self.active_sessions = Gauge(
            "gameops_active_sessions",
            "Sessions running now, on every replica (counted in the database at scrape time).",
            registry=r,
        )
        self.expiry_lag = Histogram(
            "gameops_expiry_lag_seconds",
            "How long after its scheduled end each session was expired.",
            buckets=_LAG,
            registry=r,
        )
        self.gc_pauses = Histogram(
            "gameops_gc_pause_seconds",
            "The garbage collector's pauses, by generation (2: a full collection).",
            ["generation"],
            buckets=_LATENCY,
            registry=r,
        )
        self.device_calls = Counter(
            "gameops_device_calls_total",
            "Calls to console plugs and routers: ok, refused (it answered no), unreachable "
            "(after retries), skipped (its breaker is open).",
            ["outcome"],
            registry=r,
        )
        self.payments = Counter(
            "gameops_payments_total",
            "Payments recorded or changing status, by method and status.",
            ["method", "status"],
            registry=r,
        )
        self.login_failures = Counter(
            "gameops_login_failures_total",
            "Refused logins: credentials (wrong password, unknown or disabled user) or "
            "throttled (rate limit).",
            ["reason"],
            registry=r,
        )
        self.rate_limited = Counter(
            "gameops_rate_limited_total",
            "Attempts refused by a rate limit, by limit (login-account, agent-auth-ip...).",
            ["limit"],
            registry=r,
        )

    def count_message(self, kind: str, direction: str, message_type: str) -> None:
        """One WebSocket message. Per frame of 10,000 agents: the labelled counter is looked
        up once per label set, not on every call (``labels`` was 4 % of a heartbeat's work)."""
        key = (kind, direction, message_type)
        counter = self._message_counters.get(key)
        if counter is None:
            counter = self._message_counters[key] = self.messages.labels(*key)
        counter.inc()

    def watch(
        self,
        outbox_lag: Callable[[], float],
        publish_failures: Callable[[], int],
        breakers: Callable[[], Mapping[str, int]],
    ) -> None:
        """Values read at scrape time from the parts that keep them."""
        self.registry.register(_Readings(outbox_lag, publish_failures, breakers))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Readings(Collector):
    def __init__(
        self,
        outbox_lag: Callable[[], float],
        publish_failures: Callable[[], int],
        breakers: Callable[[], Mapping[str, int]],
    ) -> None:
        self._outbox_lag = outbox_lag
        self._publish_failures = publish_failures
        self._breakers = breakers

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "gameops_outbox_lag_seconds",
            "How long the oldest committed, unpublished outbox message has waited.",
            value=self._outbox_lag(),
        )
        yield CounterMetricFamily(
            "gameops_bus_publish_failures",
            "Failed attempts of the outbox relay to publish to the bus (retried).",
            value=self._publish_failures(),
        )
        breakers = GaugeMetricFamily(
            "gameops_device_breaker_state",
            "Each console device's circuit breaker: 0 closed, 1 half-open, 2 open.",
            labels=["device"],
        )
        for device, state in sorted(self._breakers().items()):
            breakers.add_metric([device], state)
        yield breakers
