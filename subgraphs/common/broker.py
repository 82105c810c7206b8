"""Publish/subscribe for subscription events: in-process, or Redis pub/sub when REDIS_URL is set.

A subgraph running alone keeps its subscribers in memory; several replicas of one subgraph behind a
load balancer share events through Redis, so a change made on one reaches subscribers of another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

log = logging.getLogger("subgraphs.broker")

_QUEUE_SIZE = 1000  # per subscriber: a consumer that falls this far behind loses the oldest events


class Broker(Protocol):
    """Where a subgraph publishes events and where its subscription resolvers read them."""

    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class MemoryBroker:
    """Subscribers of one process: each gets its own bounded queue per topic."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Hand `event` to every current subscriber of `topic`."""
        for queue in list(self._queues.get(topic, ())):
            if queue.full():  # drop the oldest rather than block the publisher
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Events of `topic` published from now on, until the consumer stops iterating."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._queues.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[topic].discard(queue)

    def subscribers(self, topic: str) -> int:
        """How many consumers listen on `topic` now."""
        return len(self._queues.get(topic, ()))

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Redis pub/sub: channel `<prefix><topic>`, events as JSON."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Publish to every replica's subscribers; a Redis outage is logged, never fails the mutation."""
        try:
            await self._redis.publish(self._prefix + topic, orjson.dumps(event))
        except Exception:  # noqa: BLE001 - the change is stored; only the notification is lost
            log.exception("could not publish %s to Redis", topic)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Events of `topic` published by any replica from now on."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._prefix + topic)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield orjson.loads(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()


def make_broker(service: str, redis_url: str | None = None) -> Broker:
    """Redis pub/sub when `redis_url` (default: env REDIS_URL) is set, else in-process."""
    url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
    if url:
        # EVENTS_PREFIX: the key prefix the saga's streams use too, so stacks can share one Redis.
        return RedisBroker(url, f"{os.environ.get('EVENTS_PREFIX', 'fedgate')}:{service}:")
    return MemoryBroker()
