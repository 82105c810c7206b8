"""`EventBus`: one service's outbox, relay, consumer group and timers, started and stopped with its app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from subgraphs.common.bus.events import stream_name
from subgraphs.common.bus.metrics import BusMetrics
from subgraphs.common.bus.outbox import Handler, Outbox
from subgraphs.common.bus.settings import BusSettings
from subgraphs.common.bus.timers import Tick, Timers
from subgraphs.common.db import Database

if TYPE_CHECKING:
    from subgraphs.common.bus.consumer import Consumer
    from subgraphs.common.bus.relay import Relay

_log = logging.getLogger("subgraphs.bus")


class EventBus:
    """Everything event-driven about one service.

    `handlers` maps the name of a service whose events we react to onto {event type: handler};
    `ticks` are the service's durable timers. Without a Redis URL the outbox still records
    events and the timers still run, but nothing is published or consumed.
    """

    def __init__(
        self,
        service: str,
        db: Database,
        *,
        handlers: Mapping[str, Mapping[str, Handler]] = {},  # noqa: B006 - read only
        ticks: Sequence[Tick] = (),
        settings: BusSettings | None = None,
    ) -> None:
        self.service = service
        self.settings = settings or BusSettings.from_env(service)
        self.metrics = BusMetrics(service)
        self.outbox = Outbox(db, service)
        self.timers = Timers(self.outbox, ticks, self.settings.timer_poll_ms / 1000)
        self.outbox.on_commit(self.timers.wake)
        self._redis: Any = None
        self.relay: Relay | None = None
        self.consumer: Consumer | None = None
        if self.settings.redis_url:
            # Imported here: redis.asyncio takes a good part of a second to import, and a subgraph
            # without REDIS_URL (most tests) should start as fast as before the bus.
            from redis.asyncio import Redis

            from subgraphs.common.bus.consumer import Consumer
            from subgraphs.common.bus.relay import Relay

            self._redis = Redis.from_url(
                self.settings.redis_url,
                socket_connect_timeout=2,
                socket_timeout=self.settings.block_ms / 1000 + 5,
            )
            self.relay = Relay(self.outbox, self._redis, self.settings, self.metrics)
            self.outbox.on_commit(self.relay.wake)
            streams = {stream_name(self.settings.prefix, source): by_type for source, by_type in handlers.items()}
            if streams:
                self.consumer = Consumer(self.outbox, self._redis, self.settings, self.metrics, streams)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the relay, the consumer and the timers (after the database is open)."""
        if self._redis is None:
            _log.warning("%s: REDIS_URL is not set: saga events stay in the outbox", self.service)
        runners = [self.timers.run()]
        if self.relay is not None:
            runners.append(self.relay.run())
        if self.consumer is not None:
            runners.append(self.consumer.run())
        self._tasks = [asyncio.create_task(runner, name=f"{self.service}-bus") for runner in runners]

    async def stop(self) -> None:
        """Stop every loop (an unacknowledged entry is redelivered later) and close Redis."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._redis is not None:
            await self._redis.aclose()

    async def metrics_endpoint(self, _request: Request) -> Response:
        """GET /metrics: Prometheus text, with the Redis-side gauges read now."""
        self.metrics.outbox_pending.labels(self.service).set(await self.outbox.pending())
        if self.consumer is not None:
            from redis.exceptions import RedisError

            try:
                await self.consumer.observe()
            except (RedisError, OSError):
                self.metrics.redis_up.labels(self.service).set(0)
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)
