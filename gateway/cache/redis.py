"""The Redis backend: redis-py asyncio over one pool; a failing Redis is bypassed, then retried.

Every operation is bounded by `timeout`. On a failure the backend counts it, logs at most once per
`_LOG_EVERY` seconds, and answers misses without touching Redis for `retry_after` seconds; the next
operation after that tries Redis again, so the cache comes back by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.config import RedisCacheConfig
from gateway.observability.metrics import CACHE_ERRORS

log = logging.getLogger("fedgate.cache")

T = TypeVar("T")
_LOG_EVERY = 10.0
_SCAN_COUNT = 500
_SCAN_TIMEOUT = 30.0


class RedisCache:
    """A `Cache` over Redis; never raises, a miss stands in for any failure."""

    def __init__(self, config: RedisCacheConfig) -> None:
        self.config = config
        self.timeout = config.timeout
        # Blocking: a request waits (up to the timeout) for a free connection instead of failing at once.
        self._pool = BlockingConnectionPool.from_url(
            config.url,
            max_connections=config.pool_size,
            timeout=config.timeout,
            socket_timeout=config.timeout,
            socket_connect_timeout=config.timeout,
            # One retry, on a fresh connection, for a connection error only: a pooled connection
            # that sat idle while Redis restarted fails once on first use, and without this the
            # write riding on it is lost (another replica then misses it). A timeout is not retried.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._redis = Redis(connection_pool=self._pool)
        self._down_until = 0.0
        self._last_log = 0.0
        self._suppressed = 0
        self.failures = 0

    @property
    def available(self) -> bool:
        """False while failures keep the backend bypassed."""
        return time.monotonic() >= self._down_until

    async def _run(self, op: str, call: Callable[[], Awaitable[T]], default: T, timeout: float | None = None) -> T:
        if self._down_until and time.monotonic() < self._down_until:
            return default
        try:
            result = await asyncio.wait_for(call(), timeout or self.timeout)
        except Exception as exc:  # noqa: BLE001 - any Redis trouble means: go on without the cache
            self._failed(op, exc)
            return default
        if self._down_until:
            self._down_until = 0.0
            log.warning("redis cache at %s is back", self.config.url)
        return result

    def _failed(self, op: str, exc: BaseException) -> None:
        self.failures += 1
        CACHE_ERRORS.labels("redis").inc()
        now = time.monotonic()
        self._down_until = now + self.config.retry_after
        if now - self._last_log >= _LOG_EVERY:
            more = f" ({self._suppressed} more failures not logged)" if self._suppressed else ""
            log.warning(
                "redis cache %s failed (%s: %s); serving without the cache for %.1fs%s",
                op, type(exc).__name__, exc or "timeout", self.config.retry_after, more,
            )
            self._last_log = now
            self._suppressed = 0
        else:
            self._suppressed += 1

    async def get(self, key: str) -> bytes | None:
        """The value at `key`, or None."""
        value: Any = await self._run("GET", lambda: self._redis.get(key), None)
        return value  # type: ignore[no-any-return]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values at `keys` in one MGET round trip."""
        if not keys:
            return []
        values: Any = await self._run("MGET", lambda: self._redis.mget(list(keys)), None)
        return list(values) if values is not None else [None] * len(keys)

    async def set_many(
        self, items: Sequence[tuple[str, bytes, float]], tags: Sequence[tuple[str, str, float]] = ()
    ) -> None:
        """Store each (key, value, ttl) and tag keys (SADD; the set's expiry only grows) in one round trip."""
        if not items and not tags:
            return

        async def call() -> Any:
            pipe = self._redis.pipeline(transaction=False)
            for key, value, ttl in items:
                if ttl > 0:
                    pipe.set(key, value, px=max(1, int(ttl * 1000)))
            for tag, key, ttl in tags:
                seconds = max(1, int(ttl + 0.999))
                pipe.sadd(tag, key)
                pipe.expire(tag, seconds, nx=True)
                pipe.expire(tag, seconds, gt=True)
            return await pipe.execute()

        await self._run("SET", call, None)

    async def pop_tag(self, tag: str) -> list[str]:
        """The keys tagged with `tag`, and the tag's set removed (one MULTI round trip)."""

        async def call() -> list[str]:
            pipe = self._redis.pipeline(transaction=True)
            pipe.smembers(tag)
            pipe.unlink(tag)
            members, _ = await pipe.execute()
            return sorted(m.decode() for m in members)

        return await self._run("SMEMBERS", call, [])

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`."""
        if keys:
            await self._run("DEL", lambda: self._redis.unlink(*keys), None)

    async def _scan(self, prefix: str, limit: int | None) -> list[bytes]:
        found: list[bytes] = []
        async for key in self._redis.scan_iter(match=_glob_escape(prefix) + "*", count=_SCAN_COUNT):
            found.append(key)
            if limit is not None and len(found) >= limit:
                break
        return found

    async def delete_prefix(self, prefix: str) -> int:
        """SCAN for keys under `prefix` and UNLINK them (bounded by 10x the operation timeout)."""

        async def call() -> int:
            keys = await self._scan(prefix, None)
            for i in range(0, len(keys), 1000):
                await self._redis.unlink(*keys[i : i + 1000])
            return len(keys)

        return await self._run_long("SCAN/UNLINK", call, 0)

    async def scan_prefix(self, prefix: str, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` (key, value) pairs under `prefix`."""

        async def call() -> list[tuple[str, bytes]]:
            keys = await self._scan(prefix, limit)
            if not keys:
                return []
            values: list[Any] = await self._redis.mget(keys)
            return [(k.decode(), bytes(v)) for k, v in zip(keys, values, strict=True) if v is not None]

        return await self._run_long("SCAN", call, [])

    async def _run_long(self, op: str, call: Callable[[], Awaitable[T]], default: T) -> T:
        # Scans walk the keyspace off the request path (startup, invalidation), so they get more time.
        return await self._run(op, call, default, max(self.timeout * 10, _SCAN_TIMEOUT))

    async def aclose(self) -> None:
        """Close the pool."""
        try:
            await self._redis.aclose()
            await self._pool.disconnect()
        except Exception:  # noqa: BLE001
            pass


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
