"""Three `fedgate serve` replicas behind nginx share one Redis: what one learns, the others use.

A steady load runs through nginx for the whole folder (see conftest.py); every test below also
asserts that it made no client request fail. Probes go to one replica directly, so "served by
another replica" is what the test did, not what nginx happened to pick.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
import redis
from cluster import KEY_PREFIX, POLL_INTERVAL, ROOT, SECRET, Cluster, Replica, apq_body

PLACE = """
mutation Place {
  placeOrder(input: {customerId: "1", restaurantId: "1", items: [{menuItemId: "1", quantity: 1}],
                     deliveryAddress: {street: "Main 1", city: "Berlin", postalCode: "10115"}}) { id status }
}
"""
# PLACED -> CANCELLED: a status change that needs no other service (approving needs a payment first).
REJECT = "mutation Reject($id: ID!) { rejectOrder(id: $id) { id status } }"
STATUS = "query Status($id: ID!) { order(id: $id) { id status total { cents } } }"


def _status(replica: Replica, order_id: str) -> str:
    body = replica.post({"query": STATUS, "variables": {"id": order_id}}).json()
    assert "errors" not in body, body
    return str(body["data"]["order"]["status"])


def _order_changed_behind_the_gateways_back(cluster: Cluster, cached_on: list[Replica]) -> str:
    """A new order, read (and so cached) through `cached_on`, then rejected at the orders subgraph itself."""
    placed = cluster.replicas[0].post({"query": PLACE}).json()
    order_id = placed["data"]["placeOrder"]["id"]
    for replica in cached_on:
        assert _status(replica, order_id) == "PLACED"
    rejected = cluster.subgraphs["orders"].query(REJECT, {"id": order_id})
    assert rejected["data"]["rejectOrder"]["status"] == "CANCELLED"
    return str(order_id)


@pytest.fixture
def no_failed_requests(cluster: Cluster) -> Any:
    """Assert the load through nginx lost no request while the test ran."""
    sent, failed = cluster.load.sent, cluster.load.failed
    yield
    assert cluster.load.failed == failed, f"client requests failed: {cluster.load.failures}\n{cluster.nginx.errors()[-10:]}"
    assert cluster.load.sent > sent, "the load stopped"


def test_apq_registered_on_one_replica_is_served_by_the_others(cluster, no_failed_requests):
    query = f'{{ apq_{uuid.uuid4().hex[:8]}: order(id: "4") {{ id status }} }}'
    one, *others = cluster.replicas

    unknown = others[0].post(apq_body(query, with_query=False)).json()
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = one.post(apq_body(query, with_query=True)).json()
    assert "errors" not in registered

    for replica in others:
        assert replica.post(apq_body(query, with_query=False)).json() == registered
        cluster.hit()


def test_entity_cached_by_one_replica_is_a_hit_on_the_others(cluster, no_failed_requests):
    one, *others = cluster.replicas
    order_id = _order_changed_behind_the_gateways_back(cluster, [one])

    # The others never asked for this order: PLACED can only come from what replica 1 cached.
    for replica in others:
        assert _status(replica, order_id) == "PLACED"
        cluster.hit()


def test_invalidation_on_one_replica_invalidates_for_all(cluster, no_failed_requests):
    one, two, three = cluster.replicas
    order_id = _order_changed_behind_the_gateways_back(cluster, [one, two])
    assert _status(one, order_id) == _status(two, order_id) == "PLACED"  # stale, from the cache

    answer = httpx.post(
        f"{three.base_url}/invalidation",
        json={"kind": "entity", "type": "Order", "key": {"id": order_id}},
        headers={"authorization": SECRET},
        timeout=10,
    )

    assert answer.status_code == 200 and answer.json()["count"] >= 1
    assert _status(one, order_id) == _status(two, order_id) == _status(three, order_id) == "CANCELLED"


def _plan_keys(cluster: Cluster) -> set[bytes]:
    client = redis.Redis.from_url(cluster.redis.url)
    try:
        return set(client.scan_iter(match=f"{KEY_PREFIX}plan:*", count=500))
    finally:
        client.close()


def test_plan_made_on_one_replica_is_found_in_redis_by_the_others(cluster, no_failed_requests):
    one, *others = cluster.replicas
    operation = f'query Warm_{uuid.uuid4().hex[:8]} {{ order(id: "5") {{ id status restaurant {{ name }} }} }}'
    before = _plan_keys(cluster)
    assert "errors" not in one.post({"query": operation}).json()
    deadline = time.monotonic() + 5
    while not (_plan_keys(cluster) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _plan_keys(cluster) - before, "replica 1 wrote no plan to Redis"

    for replica in others:
        replica.restart()  # a fresh process: all it knows of plans is what it loaded from Redis
        assert "errors" not in replica.post({"query": operation}).json()
        assert replica.metric("fedgate_cache_misses_total", cache="plan") == 0, "it planned instead"
        assert replica.metric("fedgate_cache_hits_total", cache="plan") >= 1
        cluster.hit()


def _query_fields(replica: Replica) -> set[str]:
    body = replica.post({"query": '{ __type(name: "Query") { fields { name } } }'}).json()
    return {field["name"] for field in body["data"]["__type"]["fields"]}


def test_publish_to_the_registry_reaches_every_replica(cluster, no_failed_requests):
    field = f"clusterProbe{uuid.uuid4().hex[:6]}"
    assert all(field not in _query_fields(r) for r in cluster.replicas)
    sdl = (ROOT / "schema" / "orders.graphql").read_text().replace("type Query {", f"type Query {{\n  {field}: String", 1)
    assert "type Query {" in sdl and field in sdl
    published = cluster.registry.publish("orders", sdl, cluster.subgraphs["orders"].url)
    assert published.status_code in (200, 201), published.text

    started = time.monotonic()
    waiting = set(cluster.replicas)
    # Two poll intervals, and room for a machine shared with other test runs.
    while waiting and time.monotonic() - started < 2 * POLL_INTERVAL + 5:
        waiting = {r for r in waiting if field not in _query_fields(r)}
        time.sleep(0.05)
    assert not waiting, f"{[r.name for r in waiting]} still serve the old supergraph"
    cluster.publish_seconds = time.monotonic() - started


def test_rolling_restart_of_every_replica_fails_no_request(cluster, no_failed_requests):
    sent = cluster.load.sent
    for replica in cluster.replicas:
        assert replica.restart() == 0, f"{replica.name} did not drain cleanly:\n{replica.log()}"
    assert cluster.load.sent - sent >= 50, "too little traffic during the restart to prove anything"
    served = cluster.nginx.served_by()
    assert all(served.get(f"127.0.0.1:{r.port}", 0) > 0 for r in cluster.replicas), served


def test_redis_killed_mid_run_fails_no_request_and_caches_resume(cluster, no_failed_requests):
    sent = cluster.load.sent
    cluster.redis.kill()
    # Down for at least 2 s and 20 requests: a loaded machine sends fewer per second.
    deadline = time.monotonic() + 30
    time.sleep(2.0)
    while cluster.load.sent - sent < 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    cluster.redis.start()  # empty: nothing survived
    assert cluster.load.sent - sent >= 20, "too little traffic while Redis was down"
    time.sleep(1.0)  # retry_after is 0.3 s: every replica tries Redis again by itself

    test_apq_registered_on_one_replica_is_served_by_the_others(cluster, None)
    test_entity_cached_by_one_replica_is_a_hit_on_the_others(cluster, None)
