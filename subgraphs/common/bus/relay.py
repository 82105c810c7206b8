"""The outbox relay: publishes committed outbox rows to the service's stream, then marks them sent.

A row is marked sent only after Redis accepted it, so a crash between the two publishes it
again (at-least-once); consumers drop the copy by its event id. While Redis is down the relay
retries with backoff and the rows simply wait.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from redis.asyncio import Redis
from redis.exceptions import RedisError

from subgraphs.common.bus.events import now_iso, stream_for
from subgraphs.common.bus.metrics import BusMetrics
from subgraphs.common.bus.outbox import Outbox
from subgraphs.common.bus.settings import BusSettings

_log = logging.getLogger("subgraphs.bus.relay")

# Without a wake-up the relay still looks at the outbox this often (rows written by another process).
_IDLE_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 2.0


class Relay:
    """Moves one service's outbox to its Redis stream, in outbox order."""

    def __init__(self, outbox: Outbox, redis: Redis, settings: BusSettings, metrics: BusMetrics) -> None:
        self._outbox = outbox
        self._redis = redis
        self._settings = settings
        self._metrics = metrics
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was written to the outbox: publish it now rather than at the next idle check."""
        self._wake.set()

    async def run(self) -> None:
        """Publish forever; Redis errors only delay publishing."""
        backoff = 0.05
        service = self._outbox.service
        while True:
            self._wake.clear()
            try:
                sent = await self.publish_batch()
            except (RedisError, OSError) as exc:
                self._metrics.redis_up.labels(service).set(0)
                _log.warning("%s: cannot publish the outbox (%s); retrying in %.2fs", service, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(_MAX_BACKOFF_SECONDS, backoff * 2)
                continue
            backoff = 0.05
            self._metrics.redis_up.labels(service).set(1)
            if sent >= self._settings.batch:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=_IDLE_SECONDS)
            except TimeoutError:
                pass

    async def publish_batch(self) -> int:
        """Publish up to `batch` unsent rows; returns how many."""
        limit = self._settings.batch

        def unsent(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                "SELECT seq, type, body FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

        rows = await self._outbox.db.read(unsent)
        if not rows:
            self._metrics.outbox_pending.labels(self._outbox.service).set(0)
            return 0
        maxlen = self._settings.stream_maxlen or None
        async with self._redis.pipeline(transaction=False) as pipe:
            for row in rows:
                stream = stream_for(self._settings.prefix, self._outbox.service, row["type"])
                pipe.xadd(stream, {"event": bytes(row["body"])}, maxlen=maxlen, approximate=True)
            await pipe.execute()
        seqs = [row["seq"] for row in rows]
        sent_at = now_iso()

        def mark(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"UPDATE outbox SET sent_at = ? WHERE seq IN ({', '.join('?' * len(seqs))})", (sent_at, *seqs)
            )

        await self._outbox.db.write(mark)
        for row in rows:
            self._metrics.published.labels(self._outbox.service, row["type"]).inc()
        return len(rows)
