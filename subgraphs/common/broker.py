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

    def _register(self, topic: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._queues.setdefault(topic, set()).add(queue)
        return queue

    def _unregister(self, topic: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self._queues.get(topic)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[topic]

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Events of `topic` published from now on, until the consumer stops iterating."""
        queue = self._register(topic)
        try:
            while True:
                yield await queue.get()
        finally:
            self._unregister(topic, queue)

    def subscribers(self, topic: str) -> int:
        """How many consumers listen on `topic` now."""
        return len(self._queues.get(topic, ()))

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Redis pub/sub: channel `<prefix><topic>`, events as JSON.

    One Redis subscription per topic per process, fanned out to local subscribers in memory: a
    thousand subscribers of one topic cost one Redis connection, not a thousand."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix
        self._local = MemoryBroker()
        self._listeners: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Publish to every replica's subscribers; a Redis outage is logged, never fails the mutation."""
        try:
            await self._redis.publish(self._prefix + topic, orjson.dumps(event))
        except Exception:  # noqa: BLE001 - the change is stored; only the notification is lost
            log.exception("could not publish %s to Redis", topic)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Events of `topic` published by any replica from now on."""
        listener = self._listeners.get(topic)
        if listener is None:
            ready = asyncio.Event()
            listener = self._listeners[topic] = (asyncio.create_task(self._listen(topic, ready)), ready)
        queue = self._local._register(topic)
        try:
            await asyncio.wait_for(listener[1].wait(), 10)  # events published from here on arrive
            while True:
                yield await queue.get()
        finally:
            self._local._unregister(topic, queue)
            if self._local.subscribers(topic) == 0 and self._listeners.get(topic) is listener:
                del self._listeners[topic]
                listener[0].cancel()

    async def _listen(self, topic: str, ready: asyncio.Event) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._prefix + topic)
            ready.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    await self._local.publish(topic, orjson.loads(message["data"]))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - subscribers of this topic stop hearing; logged
            log.exception("Redis subscription to %s failed", topic)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()

    async def close(self) -> None:
        for task, _ready in self._listeners.values():
            task.cancel()
        self._listeners.clear()
        await self._redis.aclose()


def make_broker(service: str, redis_url: str | None = None) -> Broker:
    """Redis pub/sub when `redis_url` (default: env REDIS_URL) is set, else in-process."""
    url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
    if url:
        # EVENTS_PREFIX: the key prefix the saga's streams use too, so stacks can share one Redis.
        return RedisBroker(url, f"{os.environ.get('EVENTS_PREFIX', 'fedgate')}:{service}:")
    return MemoryBroker()
