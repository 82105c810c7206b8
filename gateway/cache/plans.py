"""The query plan cache: an in-memory LRU of plans, optionally backed by Redis, and warm-up on reload.

Plans are keyed by (supergraph hash, the planned operation's printed text, operation name), so a plan
never outlives the supergraph it was made for. With Redis, every new plan is also written there and a
new replica loads them at startup (`load`). `warm(new_supergraph, top_n)` re-plans the most used
operations against a reloaded supergraph before it takes traffic.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import pickle
from typing import Any

from graphql import DocumentNode, parse, print_ast, validate

from gateway.cache.base import Cache
from gateway.cache.memory import LRU
from gateway.config import GatewayConfig
from gateway.observability.metrics import CACHE_HITS, CACHE_MISSES
from gateway.planning.nodes import QueryPlan
from gateway.planning.planner import Planner

log = logging.getLogger("fedgate.cache")

PlanKey = tuple[str, str, "str | None"]

_HIT = CACHE_HITS.labels("plan")
_MISS = CACHE_MISSES.labels("plan")


class PlanCache:
    """Plans by (supergraph hash, printed operation, operation name); usage counts for warm-up."""

    def __init__(self, config: GatewayConfig, l2: Cache | None = None) -> None:
        self.size = config.plan_cache_size
        self.config = config.cache.plans
        self.prefix = config.cache.redis.key_prefix + "plan:"
        self.l2 = l2
        self._plans: LRU[PlanKey, QueryPlan] = LRU(self.size)
        self._uses: dict[tuple[str, str | None], int] = {}
        self._inner: Planner | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- hot path -------------------------------------------------------------------------------

    def used(self, key: tuple[str, str | None], hit: bool) -> None:
        """Count one request for (query text, operation name); `hit`: the pipeline had it prepared."""
        uses = self._uses
        uses[key] = uses.get(key, 0) + 1
        if hit:
            _HIT.inc()
        elif len(uses) > 4 * self.size:
            keep = sorted(uses.items(), key=lambda kv: kv[1], reverse=True)[: 2 * self.size]
            self._uses = dict(keep)

    def wrap(self, planner: Planner) -> Planner:
        """`planner` answered from this cache first."""
        self._inner = planner

        def cached_planner(supergraph: Any, document: DocumentNode, operation_name: str | None) -> QueryPlan:
            sdl_hash = getattr(supergraph, "sdl_hash", None)
            if not isinstance(sdl_hash, str):
                return planner(supergraph, document, operation_name)
            key = (sdl_hash, print_ast(document), operation_name)
            plan = self._plans.get(key)
            if plan is not None:
                _HIT.inc()
                return plan
            _MISS.inc()
            plan = planner(supergraph, document, operation_name)
            self._plans.put(key, plan)
            self._write_l2([(key, plan)])
            return plan

        cached_planner.plan_cache = self  # type: ignore[attr-defined]
        return cached_planner

    # -- second level -----------------------------------------------------------------------------

    def _l2_key(self, key: PlanKey) -> str:
        digest = hashlib.sha256(f"{key[1]}\0{key[2] or ''}".encode()).hexdigest()
        return f"{self.prefix}{key[0]}:{digest}"

    def _write_l2(self, entries: list[tuple[PlanKey, QueryPlan]]) -> None:
        if self.l2 is None or not self.config.redis or not entries:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # planned outside the event loop (a thread, a CLI): memory only
        items = []
        for key, plan in entries:
            try:
                items.append((self._l2_key(key), pickle.dumps((key, plan), protocol=5), self.config.ttl))
            except Exception:  # noqa: BLE001 - an unpicklable plan stays in memory only
                log.debug("plan not stored in redis", exc_info=True)
        task = loop.create_task(self.l2.set_many(items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def load(self, supergraph: Any, limit: int | None = None) -> int:
        """Copy plans made for `supergraph` by any replica from Redis into memory; how many."""
        sdl_hash = getattr(supergraph, "sdl_hash", None)
        if self.l2 is None or not self.config.redis or not isinstance(sdl_hash, str):
            return 0
        found = await self.l2.scan_prefix(f"{self.prefix}{sdl_hash}:", limit or self.size)
        loaded = 0
        for _, blob in found:
            try:
                key, plan = pickle.loads(blob)  # noqa: S301 - written by fedgate replicas only
            except Exception:  # noqa: BLE001
                continue
            if isinstance(plan, QueryPlan) and key[0] == sdl_hash:
                self._plans.put(key, plan)
                loaded += 1
        return loaded

    async def flush(self) -> None:
        """Wait for pending Redis writes (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- reload -----------------------------------------------------------------------------------

    def top(self, n: int) -> list[tuple[str, str | None]]:
        """The `n` most used (query text, operation name) pairs."""
        ranked = sorted(self._uses.items(), key=lambda kv: kv[1], reverse=True)
        return [key for key, _ in ranked[:n]]

    async def warm(self, new_supergraph: Any, top_n: int | None = None) -> int:
        """Plan the `top_n` most used operations against `new_supergraph` in a worker thread and keep the
        plans, so the first requests after a reload find them ready; how many were planned.

        Call it before the new supergraph takes traffic; requests on the old one go on meanwhile.
        """
        from gateway.execution.operation import split_operation

        inner = self._inner
        if inner is None:
            from gateway.planning import build_query_plan

            inner = build_query_plan
        sdl_hash = getattr(new_supergraph, "sdl_hash", None)
        if not isinstance(sdl_hash, str):
            return 0
        n = self.config.warm_top_n if top_n is None else top_n
        warmed = 0
        for query, operation_name in self.top(n):
            made: list[tuple[PlanKey, QueryPlan]] = []

            def capture(
                supergraph: Any,
                document: DocumentNode,
                name: str | None,
                made: list[tuple[PlanKey, QueryPlan]] = made,
            ) -> QueryPlan:
                key = (sdl_hash, print_ast(document), name)
                plan = self._plans.peek(key)  # read-only from the thread; writes happen on the loop
                if plan is None:
                    plan = inner(supergraph, document, name)
                    made.append((key, plan))
                return plan

            def job(query: str = query, operation_name: str | None = operation_name) -> None:
                document = parse(query)
                if validate(new_supergraph.api_schema, document):
                    return
                planned = split_operation(new_supergraph.api_schema, document, operation_name).planned_document
                if planned is not None:
                    capture(new_supergraph, planned, operation_name)

            try:
                await asyncio.to_thread(job)
            except Exception:  # noqa: BLE001 - an operation the new schema refuses is simply not warmed
                continue
            for key, plan in made:
                self._plans.put(key, plan)
            self._write_l2(made)
            warmed += 1
        return warmed

    def __len__(self) -> int:
        return len(self._plans)
