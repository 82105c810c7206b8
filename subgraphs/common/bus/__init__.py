"""The event bus between the subgraphs: Redis Streams, a transactional outbox, idempotent consumers.

docs/saga.md explains the saga built on it and the guarantees it gives.
"""

from __future__ import annotations

from subgraphs.common.bus.events import Event, dead_letter_stream, now_iso, seconds_until, stream_name
from subgraphs.common.bus.outbox import Handler, Outbox, Tx, setup_tables
from subgraphs.common.bus.service import EventBus
from subgraphs.common.bus.settings import BusSettings, seconds_from_env
from subgraphs.common.bus.timers import Tick

__all__ = [
    "BusSettings",
    "Event",
    "EventBus",
    "Handler",
    "Outbox",
    "Tick",
    "Tx",
    "dead_letter_stream",
    "now_iso",
    "seconds_from_env",
    "seconds_until",
    "setup_tables",
    "stream_name",
]
