"""Backends behind the Cache protocol, and the pure logic of partial entity hits."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import orjson
import redis

from gateway.cache import MemoryCache, RedisCache, parse_cache_control
from gateway.cache.entities import EntityCache
from gateway.config import EntityCacheConfig, RedisCacheConfig
from gateway.observability.metrics import REGISTRY


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_memory_backend_is_a_bounded_lru_with_ttl():
    clock = Clock()
    cache = MemoryCache(max_entries=2, clock=clock)
    await cache.set_many([("a", b"1", 10), ("b", b"2", 1)])
    assert await cache.get("a") == b"1"  # a is now the most recent
    await cache.set_many([("c", b"3", 10)])
    assert await cache.get_many(["a", "b", "c"]) == [b"1", None, b"3"]
    clock.now += 11
    assert await cache.get("a") is None
    cache = MemoryCache(max_entries=10, clock=clock)
    await cache.set_many([("p:1", b"x", 5), ("p:2", b"y", 5), ("q", b"z", 5)])
    assert await cache.delete_prefix("p:") == 2
    assert await cache.get_many(["p:1", "q"]) == [None, b"z"]
    await cache.set_many([("r", b"1", 5)], [("tag:a", "r", 5), ("tag:a", "q", 50)])
    assert await cache.pop_tag("tag:a") == ["q", "r"]
    assert await cache.pop_tag("tag:a") == []


async def test_redis_backend_round_trips_and_deletes_by_prefix(redis_server, key_prefix):
    cache = RedisCache(RedisCacheConfig(url=redis_server.url, key_prefix=key_prefix))
    keys = [f"{key_prefix}x:{i}" for i in range(3)]
    await cache.set_many([(k, str(i).encode(), 30) for i, k in enumerate(keys)])
    assert await cache.get_many([*keys, f"{key_prefix}missing"]) == [b"0", b"1", b"2", None]
    assert sorted(await cache.scan_prefix(f"{key_prefix}x:", 10)) == [(k, str(i).encode()) for i, k in enumerate(keys)]
    assert await cache.delete_prefix(f"{key_prefix}x:") == 3
    assert await cache.get(keys[0]) is None
    await cache.set_many([(keys[0], b"short", 0.05)])
    await asyncio.sleep(0.1)
    assert await cache.get(keys[0]) is None
    tag = f"{key_prefix}tag:t"
    await cache.set_many([(keys[1], b"v", 30)], [(tag, keys[1], 30), (tag, keys[2], 5)])
    assert await cache.pop_tag(tag) == sorted([keys[1], keys[2]])
    assert await cache.pop_tag(tag) == []
    await cache.aclose()


def _errors() -> float:
    return REGISTRY.get_sample_value("fedgate_cache_errors_total", {"backend": "redis"}) or 0.0


async def test_redis_down_means_misses_then_the_cache_comes_back(own_redis):
    cache = RedisCache(RedisCacheConfig(url=own_redis.url, timeout=0.2, retry_after=0.1))
    await cache.set_many([("k", b"v", 30)])
    assert await cache.get("k") == b"v"
    own_redis.kill()
    before = _errors()
    assert await cache.get("k") is None  # fails fast, no exception
    assert await cache.get_many(["k", "j"]) == [None, None]
    await cache.set_many([("k", b"w", 30)])
    assert _errors() == before + 1  # later calls skip Redis while it is marked down
    own_redis.start()
    await asyncio.sleep(0.15)
    await cache.set_many([("k", b"again", 30)])
    assert await cache.get("k") == b"again"
    await cache.aclose()


async def test_connections_idle_while_redis_was_down_do_not_cost_writes_once_it_is_back(own_redis):
    """Several replicas share one Redis: a write dropped after it returns is a cross-replica miss."""
    cache = RedisCache(RedisCacheConfig(url=own_redis.url, timeout=0.5, retry_after=0.1))
    # Concurrent requests open several pooled connections, which then sit idle.
    await asyncio.gather(*(cache.set_many([(f"k{i}", b"v", 30)]) for i in range(8)))
    own_redis.kill()
    own_redis.start()
    await asyncio.sleep(0.15)
    failures = cache.failures

    for i in range(8):  # each call takes an idle connection that Redis's restart closed
        await cache.set_many([(f"after{i}", b"v", 30)])

    assert cache.failures == failures, "a pooled connection from before the restart cost a write"
    assert await cache.get_many([f"after{i}" for i in range(8)]) == [b"v"] * 8
    await cache.aclose()


async def test_a_slow_redis_counts_as_a_miss(own_redis):
    cache = RedisCache(RedisCacheConfig(url=own_redis.url, timeout=0.1, retry_after=0.1))
    await cache.set_many([("k", b"v", 30)])
    blocker = threading.Thread(target=lambda: redis.Redis.from_url(own_redis.url).execute_command("DEBUG", "SLEEP", "0.5"))
    blocker.start()
    await asyncio.sleep(0.05)
    before = _errors()
    assert await cache.get("k") is None  # gave up after 0.1 s
    assert _errors() == before + 1
    blocker.join()
    await asyncio.sleep(0.1)
    assert await cache.get("k") == b"v"
    await cache.aclose()


def test_cache_control_parsing():
    assert parse_cache_control("public, max-age=30") == (30.0, False, False)
    assert parse_cache_control("private, max-age=5, s-maxage=3") == (3.0, True, False)
    assert parse_cache_control("no-store") == (None, False, True)
    assert parse_cache_control(None) == (None, False, False)


class FakeRun:
    """What `fetch_entities` needs from the executor's run: `_body`, `_send`, `variables`."""

    def __init__(self, answers: list[tuple[Any, list[Any], str | None]]) -> None:
        self.answers = answers
        self.sent: list[list[bytes]] = []
        self.variables: dict[str, Any] = {}
        self.cache: Any = None

    def _body(self, fetch: Any, reps: list[bytes] | None) -> list[bytes]:
        return list(reps or [])

    async def _send(self, node: Any, body: list[bytes]) -> tuple[Any, list[Any]]:
        self.sent.append(body)
        data, errors, cache_control = self.answers.pop(0)
        self.cache.last_response = SimpleNamespace(cache_control=cache_control)
        return data, errors


def _setup(answers: list[tuple[Any, list[Any], str | None]], supergraph: Any) -> tuple[Any, FakeRun, Any]:
    cache = EntityCache(EntityCacheConfig(enabled=True, ttl=60), MemoryCache(), supergraph)
    prepared = SimpleNamespace(kind=SimpleNamespace(value="query"))
    run = FakeRun(answers)
    entity_run = cache.begin(prepared, {})  # type: ignore[arg-type]
    run.cache = entity_run
    fetch = SimpleNamespace(service_name="payments", body_prefix=b"q", variables=())
    return entity_run, run, fetch


def _rep(i: int) -> bytes:
    return orjson.dumps({"__typename": "Order", "id": str(i)})


async def test_partial_hit_sends_only_the_misses_and_merges_in_order(supergraph):
    entity_run, run, fetch = _setup(
        [
            ({"_entities": [{"isPaid": True}]}, [], "max-age=20"),
            ({"_entities": [{"isPaid": False}, {"isPaid": True}]}, [], None),
        ],
        supergraph,
    )
    await entity_run.fetch_entities(run, None, fetch, [_rep(2)])
    data, errors = await entity_run.fetch_entities(run, None, fetch, [_rep(1), _rep(2), _rep(3)])

    assert run.sent == [[_rep(2)], [_rep(1), _rep(3)]]
    assert data == {"_entities": [{"isPaid": False}, {"isPaid": True}, {"isPaid": True}]} and errors == []
    # Order 2 came from an entry the subgraph said to keep 20 s: the response may be kept no longer.
    assert entity_run.cache_control() in ("max-age=20,public", "max-age=19,public")


async def test_a_fetch_with_errors_is_not_cached_and_its_error_paths_point_at_the_full_list(supergraph):
    error = {"message": "boom", "path": ["_entities", 0, "isPaid"]}
    entity_run, run, fetch = _setup(
        [
            ({"_entities": [{"isPaid": True}]}, [], None),
            ({"_entities": [None]}, [error], None),
            ({"_entities": [None]}, [error], None),
        ],
        supergraph,
    )
    await entity_run.fetch_entities(run, None, fetch, [_rep(1)])
    _, errors = await entity_run.fetch_entities(run, None, fetch, [_rep(1), _rep(2)])
    assert errors == [{"message": "boom", "path": ["_entities", 1, "isPaid"]}]
    assert entity_run.cache_control() == "no-store"
    await entity_run.fetch_entities(run, None, fetch, [_rep(1), _rep(2)])
    assert run.sent[1:] == [[_rep(2)], [_rep(2)]]  # the failed entity was asked for again


class BrokenStore(MemoryCache):
    """A backend with a bug: every read raises."""

    async def get_many(self, keys: Any) -> list[bytes | None]:
        raise RuntimeError("bug")


async def test_a_failing_cache_falls_back_to_a_plain_fetch(supergraph):
    entity_run, run, fetch = _setup([({"_entities": [{"isPaid": True}, {"isPaid": False}]}, [], None)], supergraph)
    entity_run.cache.store = BrokenStore()

    data, errors = await entity_run.fetch_entities(run, None, fetch, [_rep(1), _rep(2)])

    assert data == {"_entities": [{"isPaid": True}, {"isPaid": False}]} and errors == []
    assert run.sent == [[_rep(1), _rep(2)]]
    assert entity_run.cache_control() == "no-store"


async def test_invalidation_says_so_when_redis_is_down(own_redis, supergraph):
    from gateway.cache.invalidation import handle_invalidation

    store = RedisCache(RedisCacheConfig(url=own_redis.url, timeout=0.2, retry_after=5))
    entities = EntityCache(EntityCacheConfig(enabled=True), store, supergraph)
    body = orjson.dumps({"kind": "entity", "type": "Order", "key": {"id": "1"}})
    assert (await handle_invalidation("s", entities, "s", body))[0] == 200
    own_redis.kill()
    status, answer = await handle_invalidation("s", entities, "s", body)
    assert status == 503 and "failed" in answer["error"]
    status, answer = await handle_invalidation("s", entities, "Bearer s", body)
    assert status == 503 and "unavailable" in answer["error"]
    await store.aclose()
