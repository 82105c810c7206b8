"""Prometheus metrics: one registry for the gateway; every metric is declared here."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
SUBGRAPH_REQUESTS = Counter(
    "fedgate_subgraph_requests",
    "HTTP requests sent to each subgraph.",
    ["subgraph"],
    registry=REGISTRY,
)

# --- requests and subgraph fetches (gateway/server/middleware.py, gateway/observability/instrument.py)
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = Counter(
    "fedgate_requests",
    "GraphQL requests by operation name and outcome (success, error, refused, failure).",
    ["operation", "outcome"],
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "fedgate_request_duration_seconds",
    "Time from request received to response sent, by operation name and outcome.",
    ["operation", "outcome"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
SUBGRAPH_FETCHES = Counter(
    "fedgate_subgraph_fetches",
    "Subgraph fetches by subgraph and outcome (success, error, failure).",
    ["subgraph", "outcome"],
    registry=REGISTRY,
)
SUBGRAPH_FETCH_DURATION = Histogram(
    "fedgate_subgraph_fetch_duration_seconds",
    "Duration of one subgraph fetch, by subgraph and outcome.",
    ["subgraph", "outcome"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
IN_FLIGHT = Gauge("fedgate_requests_in_flight", "GraphQL requests being handled now.", registry=REGISTRY)
PLAN_CACHE_SIZE = Gauge(
    "fedgate_plan_cache_size", "Operations held planned in memory (read at scrape time).", registry=REGISTRY
)
