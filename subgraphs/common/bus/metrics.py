"""Prometheus metrics of one service's event bus, served at that subgraph's /metrics.

Counters move as events flow; the gauges that describe Redis (pending entries per group,
dead-letter length) and the outbox backlog are read when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class BusMetrics:
    """The metrics of one service, in a registry of its own (tests run several services per process)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["service"]
        self.published = Counter(
            "fedgate_events_published", "Events the relay published to Redis", [*labels, "type"], registry=self.registry
        )
        self.consumed = Counter(
            "fedgate_events_consumed",
            "Stream entries handled, by outcome: applied, duplicate (already applied), ignored, failed",
            [*labels, "stream", "type", "outcome"],
            registry=self.registry,
        )
        self.reclaimed = Counter(
            "fedgate_events_reclaimed",
            "Pending entries claimed with XAUTOCLAIM (a dead consumer's, or a failed handler's retry)",
            [*labels, "stream"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "fedgate_events_dead_lettered",
            "Entries moved to the dead-letter stream after too many deliveries",
            [*labels, "stream"],
            registry=self.registry,
        )
        self.handle_seconds = Histogram(
            "fedgate_event_handle_seconds",
            "Time from reading an entry to its acknowledgement",
            labels,
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.redis_up = Gauge(
            "fedgate_events_redis_up", "1 while the last Redis call succeeded", labels, registry=self.registry
        )
        self.outbox_pending = Gauge(
            "fedgate_outbox_pending", "Events written but not yet published", labels, registry=self.registry
        )
        self.group_pending = Gauge(
            "fedgate_events_pending",
            "Entries delivered to this service's consumer group and not acknowledged yet",
            [*labels, "stream"],
            registry=self.registry,
        )
        self.group_lag = Gauge(
            "fedgate_events_lag",
            "Entries in the stream not yet delivered to this service's consumer group",
            [*labels, "stream"],
            registry=self.registry,
        )
        self.dead_letter_length = Gauge(
            "fedgate_events_dead_letter_length",
            "Entries waiting in this service's dead-letter stream",
            labels,
            registry=self.registry,
        )
        self.redis_up.labels(service).set(0)
