"""The plan cache: shared through Redis so a new replica starts warm; re-planning before a reload."""

from __future__ import annotations

import time
from typing import Any

import redis

from gateway.cache import Caches
from gateway.config import GatewayConfig
from gateway.planning import build_query_plan
from gateway.server.pipeline import Pipeline
from gateway.supergraph import load_supergraph

QUERY = '{ order(id: "1") { id status isPaid delivery { status } } }'


class CountingPlanner:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return build_query_plan(*args)


def test_new_replica_starts_with_plans_from_redis(start_gateway, redis_server, key_prefix):
    config = {"cache": {"backend": "redis", "redis": {"url": redis_server.url, "key_prefix": key_prefix}}}
    first_planner = CountingPlanner()
    first = start_gateway(config, planner=first_planner)
    expected = first.post(QUERY).json()
    first.post(QUERY)
    assert first_planner.calls == 1  # the second request found the plan in memory

    client = redis.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 5
    while not client.keys(f"{key_prefix}plan:*") and time.monotonic() < deadline:
        time.sleep(0.02)  # the write to Redis happens off the request path
    client.close()

    second_planner = CountingPlanner()
    second = start_gateway(config, planner=second_planner)
    assert second.post(QUERY).json() == expected
    assert second_planner.calls == 0


async def test_warm_replans_the_most_used_operations_for_a_new_supergraph(supergraph):
    config = GatewayConfig()
    caches = Caches(config)
    planner = CountingPlanner()
    wrapped = caches.plans.wrap(planner)
    old = Pipeline(supergraph, config, wrapped, transport=None, caches=caches)  # type: ignore[arg-type]
    popular, rare = QUERY, '{ order(id: "2") { id } }'
    for _ in range(3):
        old.prepare(popular, None)
    old.prepare(rare, None)
    assert planner.calls == 2

    reloaded = load_supergraph(supergraph.sdl + "\n# a new version\n")
    assert reloaded.sdl_hash != supergraph.sdl_hash
    assert await caches.warm(reloaded, top_n=1) == 1
    assert planner.calls == 3  # the popular one, planned before traffic arrives

    new = Pipeline(reloaded, config, wrapped, transport=None, caches=caches)  # type: ignore[arg-type]
    new.prepare(popular, None)
    assert planner.calls == 3
    new.prepare(rare, None)
    assert planner.calls == 4
    await caches.aclose()
