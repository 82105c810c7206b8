"""Rate limiting: a token bucket per client key, in memory or in Redis (shared by every replica).

The key is the client name (`apollographql-client-name`), a request header, a JWT claim or the
whole gateway (`global`). Each bucket holds `capacity` tokens and refills `capacity` per
`interval` seconds; a request takes one token or is refused with HTTP 429, a `Retry-After`
header and a GraphQL error coded REQUEST_RATE_LIMITED (Router's code). In Redis the bucket is
updated by one Lua script using the Redis server's clock, so replicas agree exactly. A Redis that
fails lets requests through (fail open, counted) unless `fail_open` is false.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.plugins.api import OperationInfo, Plugin, PluginContext, RouterRequest
from gateway.plugins.errors import PluginRejection

log = logging.getLogger("fedgate.plugins.rate_limit")

REQUEST_RATE_LIMITED = "REQUEST_RATE_LIMITED"

# KEYS[1] bucket; ARGV capacity, refill per ms. Returns {allowed (0/1), ms until one token}.
_TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return {allowed, wait}
"""


class RateLimitConfig(BaseModel):
    """Settings of the `rate_limit` plugin."""

    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(gt=0, description="Requests a key may make per `interval` (and its burst size).")
    interval: float = Field(default=1.0, gt=0, description="Seconds over which `capacity` tokens refill.")
    key: str = Field(
        default="client",
        description="What a bucket belongs to: `client` (apollographql-client-name), `header:<name>`, "
        "`claim:<name>` (a verified JWT claim) or `global`.",
        pattern=r"^(client|global|header:.+|claim:.+)$",
    )
    backend: Literal["memory", "redis"] = Field(default="memory", description="Where buckets live.")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis for `backend: redis`.")
    key_prefix: str = Field(default="fedgate:ratelimit:", description="Prefix of the Redis keys.")
    redis_timeout: float = Field(default=0.25, gt=0, description="Seconds a Redis call may take.")
    fail_open: bool = Field(default=True, description="Let requests through when Redis fails.")


class _MemoryBuckets:
    """Token buckets in this process (one replica's view)."""

    def __init__(self, capacity: int, rate_per_second: float) -> None:
        self.capacity = capacity
        self.rate = rate_per_second
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Take a token for `key`: 0.0 when allowed, else the seconds until one is available."""
        now = time.monotonic()
        tokens, ts = self._buckets.get(key, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - ts) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > 100_000:  # bound memory: forget the oldest half
            for old in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[old]
        return (1 - tokens) / self.rate


class RateLimit(Plugin):
    """Token-bucket rate limiting by client, header, JWT claim or globally."""

    Config = RateLimitConfig
    config: RateLimitConfig

    def __init__(self, config: RateLimitConfig | None = None, *, name: str | None = None) -> None:  # type: ignore[override]
        assert config is not None
        super().__init__(config, name=name)
        self._rate = config.capacity / config.interval
        self._memory = _MemoryBuckets(config.capacity, self._rate)
        self._redis: Redis | None = None
        kind, _, arg = config.key.partition(":")
        self._kind = kind
        self._arg = arg.lower() if kind == "header" else arg
        self._script_sha: str | None = None

    async def startup(self) -> None:
        if self.config.backend == "redis":
            self._redis = Redis.from_url(
                self.config.redis_url,
                socket_timeout=self.config.redis_timeout,
                socket_connect_timeout=self.config.redis_timeout,
            )

    async def shutdown(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _key(self, ctx: PluginContext) -> str | None:
        if self._kind == "global":
            return "global"
        if self._kind == "client":
            return f"client:{ctx.client_name or ''}"
        if self._kind == "header":
            value = ctx.headers.get(self._arg)
            return None if value is None else f"header:{value}"
        claims = ctx.claims or {}
        value = claims.get(self._arg)
        return None if value is None else f"claim:{value}"

    async def _take(self, key: str) -> float:
        if self._redis is None:
            return self._memory.take(key)
        try:
            if self._script_sha is None:
                self._script_sha = await self._redis.script_load(_TOKEN_BUCKET)
            try:
                allowed, wait_ms = await self._redis.evalsha(  # type: ignore[misc]
                    self._script_sha, 1, self.config.key_prefix + key, self.config.capacity, self._rate / 1000.0
                )
            except RedisError as exc:
                if "NOSCRIPT" not in str(exc):
                    raise
                self._script_sha = None
                allowed, wait_ms = await self._redis.eval(  # type: ignore[misc]
                    _TOKEN_BUCKET, 1, self.config.key_prefix + key, self.config.capacity, self._rate / 1000.0
                )
        except (RedisError, OSError, TimeoutError) as exc:
            if self.config.fail_open:
                log.warning("rate limit: Redis failed (%s); letting the request through", exc)
                return 0.0
            raise
        return 0.0 if int(allowed) == 1 else int(wait_ms) / 1000.0

    async def _check(self, ctx: PluginContext) -> None:
        key = self._key(ctx)
        if key is None:  # no header / claim: not limited by this rule
            return
        wait = await self._take(key)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise PluginRejection(
                "Your request has been rate limited.",
                REQUEST_RATE_LIMITED,
                status=429,
                headers={"retry-after": str(retry_after)},
            )

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        if self._kind != "claim":
            await self._check(ctx)

    async def operation(self, ctx: PluginContext, operation: OperationInfo) -> None:
        if self._kind == "claim":  # claims exist only once the token was verified
            await self._check(ctx)
