"""Prometheus metrics: one registry for the gateway; every metric is declared here."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

REGISTRY = CollectorRegistry()

CIRCUIT_STATE = Gauge(
    "fedgate_circuit_state",
    "Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open.",
    ["subgraph"],
    registry=REGISTRY,
)
SUBGRAPH_RETRIES = Counter(
    "fedgate_subgraph_retries",
    "Subgraph request retries, by outcome of the retry decision (retried, budget_exhausted).",
    ["subgraph", "decision"],
    registry=REGISTRY,
)
SUPERGRAPH_RELOADS = Counter(
    "fedgate_supergraph_reloads",
    "Supergraph reload attempts by result (loaded, refused).",
    ["result"],
    registry=REGISTRY,
)
USAGE_REPORTS = Counter(
    "fedgate_usage_reports",
    "Usage reports sent to `usage_reporting.endpoint`, by result (sent, refused, error).",
    ["result"],
    registry=REGISTRY,
)
USAGE_REPORTS_DROPPED = Counter(
    "fedgate_usage_reports_dropped",
    "Usage reports dropped, by reason (queue_full: the endpoint was unreachable too long; refused: 4xx).",
    ["reason"],
    registry=REGISTRY,
)
CACHE_HITS = Counter(
    "fedgate_cache_hits",
    "Cache hits by cache (plan, apq, entity).",
    ["cache"],
    registry=REGISTRY,
)
CACHE_MISSES = Counter(
    "fedgate_cache_misses",
    "Cache misses by cache (plan, apq, entity).",
    ["cache"],
    registry=REGISTRY,
)
CACHE_ERRORS = Counter(
    "fedgate_cache_errors",
    "Cache backend failures (the request went on without the cache), by backend.",
    ["backend"],
    registry=REGISTRY,
)
DOCUMENT_PARSES = Counter(
    "fedgate_document_parses",
    "Operation documents parsed: one per distinct query text while it stays in the prepared-operation cache.",
    registry=REGISTRY,
)
SUBGRAPH_ERRORS = Counter(
    "fedgate_subgraph_errors",
    "Subgraph answers the gateway could not use as sent, by subgraph and kind (connect, timeout, reset, "
    "truncated, malformed_http, too_large, http_error, invalid_json, circuit_open, not_graphql, no_data, "
    "entities_count, entity_typename, invalid_value, other).",
    ["subgraph", "kind"],
    registry=REGISTRY,
)
SUBGRAPH_REQUESTS = Counter(
    "fedgate_subgraph_requests",
    "HTTP requests sent to each subgraph.",
    ["subgraph"],
    registry=REGISTRY,
)

# --- requests and subgraph fetches (gateway/server/guard.py, gateway/transport/instrumented.py)
# These are counted on every request, so they are plain lists updated from the event loop (no
# locks, no label lookups) and turned into Prometheus families only when /metrics is scraped.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class TimedCounter:
    """A counter `<name>_total` and a histogram `<histogram>` over the same labelled events."""

    def __init__(self, name: str, histogram: str, doc: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.histogram = histogram
        self.doc = doc
        self.labelnames = labelnames
        self._series: dict[tuple[str, ...], list[Any]] = {}

    def series(self, *labels: str) -> list[Any]:
        """The mutable record for one label set: [count, sum, per-bucket counts]; keep it and `observe`."""
        found = self._series.get(labels)
        if found is None:
            found = self._series[labels] = [0, 0.0, [0] * (len(_SECONDS) + 1)]
        return found

    @staticmethod
    def observe(series: list[Any], seconds: float) -> None:
        series[0] += 1
        series[1] += seconds
        series[2][bisect_left(_SECONDS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        counter = CounterMetricFamily(self.name, self.doc, labels=self.labelnames)
        histogram = HistogramMetricFamily(self.histogram, self.doc, labels=self.labelnames)
        for labels, (count, total, buckets) in list(self._series.items()):
            counter.add_metric(labels, count)
            cumulative, running = [], 0
            for bound, n in zip((*map(floatToGoString, _SECONDS), "+Inf"), buckets, strict=True):
                running += n
                cumulative.append((bound, running))
            histogram.add_metric(labels, cumulative, total)
        yield counter
        yield histogram


REQUESTS = TimedCounter(
    "fedgate_requests",
    "fedgate_request_duration_seconds",
    "GraphQL requests and their duration, by operation name and outcome (success, error, refused, failure).",
    ("operation", "outcome"),
)
SUBGRAPH_FETCHES = TimedCounter(
    "fedgate_subgraph_fetches",
    "fedgate_subgraph_fetch_duration_seconds",
    "Subgraph fetches and their duration, by subgraph and outcome (success, error, failure).",
    ("subgraph", "outcome"),
)
REGISTRY.register(REQUESTS)  # type: ignore[arg-type]
REGISTRY.register(SUBGRAPH_FETCHES)  # type: ignore[arg-type]

IN_FLIGHT = Gauge("fedgate_requests_in_flight", "GraphQL requests being handled now (read at scrape time).", registry=REGISTRY)
EVENT_LOOP_TASKS = Gauge(
    "fedgate_event_loop_tasks",
    "asyncio tasks alive in the serving event loop (read at scrape time): flat when idle, or tasks leak.",
    registry=REGISTRY,
)
PLAN_CACHE_SIZE = Gauge(
    "fedgate_plan_cache_size", "Operations held planned in memory (read at scrape time).", registry=REGISTRY
)

# --- subscriptions (gateway/subscriptions/)
SUBSCRIPTION_CONNECTIONS = Gauge(
    "fedgate_subscription_connections",
    "Open subscription connections from clients, by transport (ws, sse).",
    ["transport"],
    registry=REGISTRY,
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "fedgate_subscriptions_active",
    "Client subscriptions running now, by the subgraph owning their root field.",
    ["subgraph"],
    registry=REGISTRY,
)
SUBSCRIPTION_UPSTREAMS = Gauge(
    "fedgate_subscription_upstreams",
    "Streams open to subgraphs now (fewer than active subscriptions when deduplicated).",
    ["subgraph"],
    registry=REGISTRY,
)
SUBSCRIPTION_EVENTS_IN = Counter(
    "fedgate_subscription_events_in",
    "Events received from subgraph streams.",
    ["subgraph"],
    registry=REGISTRY,
)
SUBSCRIPTION_EVENTS_OUT = Counter(
    "fedgate_subscription_events_out",
    "Events sent to clients, after the rest of the plan ran on them.",
    ["subgraph"],
    registry=REGISTRY,
)
SUBSCRIPTION_EVENT_SECONDS = Histogram(
    "fedgate_subscription_event_duration_seconds",
    "Seconds from an event's arrival from a subgraph to its response being ready (the per-event plan run).",
    ["subgraph"],
    buckets=_SECONDS,
    registry=REGISTRY,
)

# --- plugins (gateway/plugins/chain.py): counted only when plugins are configured.
PLUGIN_CALLS = Counter(
    "fedgate_plugin_calls",
    "Plugin hook invocations, by plugin and hook.",
    ["plugin", "hook"],
    registry=REGISTRY,
)
PLUGIN_ERRORS = Counter(
    "fedgate_plugin_errors",
    "Plugin hooks that raised (the client got PLUGIN_ERROR), by plugin and hook.",
    ["plugin", "hook"],
    registry=REGISTRY,
)
PLUGIN_REJECTIONS = Counter(
    "fedgate_plugin_rejections",
    "Requests or fetches a plugin ended with its own GraphQL error, by plugin, hook and code.",
    ["plugin", "hook", "code"],
    registry=REGISTRY,
)
