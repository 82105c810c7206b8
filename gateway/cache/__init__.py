"""Caches: one small Cache protocol with memory and Redis backends; plans, APQ and entities use it."""

from __future__ import annotations

from typing import Any

from gateway.cache.apq import ManifestError, PersistedQueries, PersistedQueryError, load_manifest, sha256_hex
from gateway.cache.base import Cache, CacheError
from gateway.cache.entities import EntityCache, EntityCacheRun, parse_cache_control
from gateway.cache.memory import MemoryCache
from gateway.cache.plans import PlanCache
from gateway.cache.redis import RedisCache
from gateway.config import GatewayConfig


class Caches:
    """Every cache of one gateway process, built from `config.cache`."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        settings = config.cache
        self.redis: RedisCache | None = RedisCache(settings.redis) if settings.backend == "redis" else None
        self.store: Cache = self.redis if self.redis is not None else MemoryCache(settings.memory_entries)
        prefix = settings.redis.key_prefix
        self.plans = PlanCache(config, self.redis)
        apq = settings.apq
        # Built with APQ off too, so a hash is answered PERSISTED_QUERY_NOT_SUPPORTED, not ignored.
        self.apq: PersistedQueries | None = PersistedQueries(apq, self.store, prefix)
        self.entities: EntityCache | None = None

    def entities_for(self, supergraph: Any) -> EntityCache | None:
        """The entity cache for a pipeline serving `supergraph` (None when `cache.entities` is off)."""
        if not self.config.cache.entities.enabled:
            return None
        self.entities = EntityCache(
            self.config.cache.entities, self.store, supergraph, self.config.cache.redis.key_prefix
        )
        return self.entities

    async def warm(self, new_supergraph: Any, top_n: int | None = None) -> int:
        """Re-plan the most used operations for `new_supergraph` before it takes traffic (see PlanCache.warm)."""
        return await self.plans.warm(new_supergraph, top_n)

    async def aclose(self) -> None:
        """Wait for pending writes and close Redis connections."""
        await self.plans.flush()
        await self.store.aclose()


__all__ = [
    "Cache",
    "CacheError",
    "Caches",
    "EntityCache",
    "EntityCacheRun",
    "ManifestError",
    "MemoryCache",
    "PersistedQueries",
    "PersistedQueryError",
    "PlanCache",
    "RedisCache",
    "load_manifest",
    "parse_cache_control",
    "sha256_hex",
]
