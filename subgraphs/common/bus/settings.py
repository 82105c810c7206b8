"""The event bus's settings, read from the environment (docs/saga.md lists every variable)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BusSettings:
    """Where Redis is and how patient the consumers are."""

    #: None: no bus; events wait in the outbox and nothing is consumed (the subgraph still serves).
    redis_url: str | None
    #: Stream key prefix, so several stacks can share one Redis.
    prefix: str = "fedgate"
    #: Deliveries of one entry before it is moved to the dead-letter stream.
    max_deliveries: int = 5
    #: A pending entry idle this long is claimed (XAUTOCLAIM) by a live consumer: a crashed
    #: consumer's entries, and retries of entries whose handler failed.
    claim_idle_ms: int = 5000
    #: How long one XREADGROUP blocks waiting for new entries.
    block_ms: int = 1000
    #: Entries read, claimed or relayed per round trip.
    batch: int = 100
    #: Approximate cap on each stream's length (XADD MAXLEN ~); 0 keeps everything.
    stream_maxlen: int = 100_000
    #: How often the timers (auto-approve, pickup, ride) look for due work at most.
    timer_poll_ms: int = 250
    #: This process's name within its consumer group.
    consumer: str = ""

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> BusSettings:
        """REDIS_URL, EVENTS_PREFIX, EVENTS_MAX_DELIVERIES, EVENTS_CLAIM_IDLE_MS, EVENTS_BLOCK_MS,
        EVENTS_BATCH, EVENTS_STREAM_MAXLEN, EVENTS_TIMER_POLL_MS, EVENTS_CONSUMER."""
        env = os.environ if env is None else env
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            prefix=env.get("EVENTS_PREFIX", "fedgate"),
            max_deliveries=max(1, int(env.get("EVENTS_MAX_DELIVERIES", "5"))),
            claim_idle_ms=max(1, int(env.get("EVENTS_CLAIM_IDLE_MS", "5000"))),
            block_ms=max(1, int(env.get("EVENTS_BLOCK_MS", "1000"))),
            batch=max(1, int(env.get("EVENTS_BATCH", "100"))),
            stream_maxlen=max(0, int(env.get("EVENTS_STREAM_MAXLEN", "100000"))),
            timer_poll_ms=max(1, int(env.get("EVENTS_TIMER_POLL_MS", "250"))),
            consumer=env.get("EVENTS_CONSUMER") or f"{service}-{socket.gethostname()}-{os.getpid()}",
        )


def seconds_from_env(name: str, default: float, env: Mapping[str, str] | None = None) -> float:
    """A duration in seconds from the environment; negative means "never" for the timers that allow it."""
    env = os.environ if env is None else env
    raw = env.get(name)
    return default if raw is None or raw.strip() == "" else float(raw)
