"""Prometheus metrics: one registry for the gateway; every metric is declared here."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

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
