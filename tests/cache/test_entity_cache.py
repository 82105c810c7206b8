"""The entity and root-field cache against the real subgraphs, in memory and in a real Redis."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from cache_helpers import redis_config

PLACE = """
mutation Place($city: String!) {
  placeOrder(input: {customerId: "1", restaurantId: "1", items: [{menuItemId: "1", quantity: 1}],
                     deliveryAddress: {street: "Main 1", city: $city, postalCode: "10115"}}) { id status }
}
"""
# PLACED -> CANCELLED: a status change that needs no other service (approving needs a payment first).
REJECT = "mutation Reject($id: ID!) { rejectOrder(id: $id) { id status } }"


def _eventually(condition: Any, timeout: float) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _status(gateway: Any, order_id: str) -> str:
    body = gateway.order(order_id).json()
    assert "errors" not in body, body
    return str(body["data"]["order"]["status"])


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_repeated_query_is_answered_with_fewer_subgraph_requests(
    backend, start_gateway, counts, redis_server, key_prefix
):
    if backend == "redis":
        config = redis_config(redis_server.url, key_prefix)
    else:
        config = {"cache": {"entities": {"enabled": True}}}
    cached = start_gateway(config)
    plain = start_gateway()

    reference = plain.order("1")
    counts.delta()
    first = cached.order("1")
    cold = counts.total()
    second = cached.order("1")
    warm = counts.total()

    assert first.json() == second.json() == reference.json()
    assert "errors" not in first.json()
    assert cold >= 3 and warm == 0
    assert second.headers["cache-control"].startswith("max-age=")
    assert "cache-control" not in reference.headers  # cache off: no header, nothing changes


def test_two_gateways_sharing_redis_share_entities(start_gateway, counts, redis_server, key_prefix):
    a = start_gateway(redis_config(redis_server.url, key_prefix))
    b = start_gateway(redis_config(redis_server.url, key_prefix))

    first = a.order("5")
    assert counts.total() > 0
    second = b.order("5")

    assert counts.total() == 0
    assert second.json() == first.json()


def test_partial_hit_fetches_only_the_missing_entities(start_gateway, counts):
    gateway = start_gateway({"cache": {"entities": {"enabled": True}}})
    query = "{ orders(first: 5) { edges { node { id isPaid } } } }"
    gateway.post('{ order(id: "2") { id isPaid } }')  # caches Order 2's payments entity
    counts.delta()

    body = gateway.post(query).json()

    # orders answers the list; payments is asked once, for the four orders it has not seen.
    assert counts.delta() == {"orders": 1, "payments": 1, "delivery": 0}
    assert [e["node"]["id"] for e in body["data"]["orders"]["edges"]] == ["5", "4", "3", "2", "1"]
    again = gateway.post(query).json()
    assert counts.total() == 0 and again == body


def test_ttl_expiry_makes_fresh_data_visible(start_gateway, counts, stack):
    gateway = start_gateway({"cache": {"entities": {"enabled": True, "types": {"Query": {"ttl": 1}}}}})
    order_id = gateway.post(PLACE, {"city": "Berlin"}).json()["data"]["placeOrder"]["id"]
    assert _status(gateway, order_id) == "PLACED"

    rejected = stack["orders"].query(REJECT, {"id": order_id})  # behind the gateway's back
    assert rejected["data"]["rejectOrder"]["status"] == "CANCELLED"
    assert _status(gateway, order_id) == "PLACED"  # still cached
    # Polled, not slept: it turns CANCELLED once the 1 s entry expires.
    _eventually(lambda: _status(gateway, order_id) == "CANCELLED", timeout=10)


def test_invalidation_by_type_and_key_and_by_mutation(start_gateway, stack, redis_server, key_prefix):
    config = redis_config(redis_server.url, key_prefix)
    gateway = start_gateway(config)
    other = start_gateway(config)
    order_id = gateway.post(PLACE, {"city": "Berlin"}).json()["data"]["placeOrder"]["id"]
    assert _status(gateway, order_id) == "PLACED"

    # A change behind the gateway's back stays invisible until someone invalidates.
    stack["orders"].query(REJECT, {"id": order_id})
    assert _status(other, order_id) == "PLACED"
    invalidation = f"{gateway.base}/invalidation"
    refused = gateway.client.post(invalidation, json={"kind": "type", "type": "Order"})
    assert refused.status_code == 401
    done = gateway.client.post(
        invalidation,
        json=[{"kind": "entity", "type": "Order", "key": {"id": order_id}}],
        headers={"authorization": "s3cret"},
    )
    assert done.status_code == 200 and done.json()["count"] >= 1
    assert _status(other, order_id) == "CANCELLED"

    # A mutation through the gateway drops the entries of the entities it returns.
    second = gateway.post(PLACE, {"city": "Berlin"}).json()["data"]["placeOrder"]["id"]
    assert _status(other, second) == "PLACED"
    mutated = gateway.post(REJECT, {"id": second})
    assert mutated.json()["data"]["rejectOrder"]["status"] == "CANCELLED"
    assert mutated.headers["cache-control"] == "no-store"
    assert _status(other, second) == "CANCELLED"

    # By subgraph: everything orders answered goes.
    third = gateway.post(PLACE, {"city": "Berlin"}).json()["data"]["placeOrder"]["id"]
    assert _status(other, third) == "PLACED"
    stack["orders"].query("mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": third})
    assert _status(other, third) == "PLACED"
    by_subgraph = gateway.client.post(
        invalidation, json={"kind": "subgraph", "subgraph": "orders"}, headers={"authorization": "s3cret"}
    )
    assert by_subgraph.status_code == 200
    assert _status(other, third) == "CANCELLED"


def test_private_data_never_crosses_users(start_gateway, counts):
    gateway = start_gateway(
        {"cache": {"entities": {"enabled": True, "private_id_header": "x-user",
                                "subgraphs": {"payments": {"private": True}}}}}
    )
    query = '{ order(id: "1") { id isPaid payment { status } } }'

    def payments_calls(headers: dict[str, str] | None) -> tuple[int, Any]:
        counts.delta()
        response = gateway.post(query, headers=headers)
        return counts.delta()["payments"], response

    assert payments_calls({"x-user": "ada"})[0] == 1
    calls, ada_again = payments_calls({"x-user": "ada"})
    assert calls == 0 and ada_again.headers["cache-control"].endswith("private")
    # Another user, or nobody, never gets ada's entry: payments is asked every time.
    assert payments_calls({"x-user": "grace"})[0] == 1
    assert payments_calls(None)[0] == 1
    assert payments_calls(None)[0] == 1
    # Public data (orders) is still shared between them.
    counts.delta()
    gateway.post(query, headers={"x-user": "alan"})
    assert counts.delta()["orders"] == 0


def test_cache_varying_headers_are_part_of_the_key(start_gateway, counts):
    gateway = start_gateway({"cache": {"entities": {"enabled": True, "vary_headers": ["x-tenant"]}}})
    query = '{ order(id: "3") { id status } }'

    def orders_calls(tenant: str) -> int:
        counts.delta()
        assert "errors" not in gateway.post(query, headers={"x-tenant": tenant}).json()
        return counts.delta()["orders"]

    assert [orders_calls(t) for t in ("a", "a", "b", "b", "a")] == [1, 0, 1, 0, 0]


def test_killing_redis_mid_run_fails_no_request(start_gateway, own_redis, counts, key_prefix):
    gateway = start_gateway(redis_config(own_redis.url, key_prefix))
    expected = gateway.order("1").json()
    failures: list[Any] = []
    answered: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            response = gateway.order("1")
            answered.append(response.status_code)
            if response.status_code != 200 or response.json() != expected:
                failures.append((response.status_code, response.text[:200]))

    def answers(n: int) -> None:
        """Wait until the workers have had `n` more answers (progress, not time, ends each phase)."""
        target = len(answered) + n
        _eventually(lambda: len(answered) >= target, timeout=20)

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        answers(10)
        own_redis.kill()
        answers(10)
        counts.delta()
        answers(10)
        without_redis = counts.total()
        own_redis.start()
        answers(10)  # and on while it comes back
    finally:
        stop.set()
        for w in workers:
            w.join(10)
    assert failures == []
    assert without_redis > 0  # requests went on, straight to the subgraphs

    def from_cache() -> bool:
        gateway.order("1")
        counts.delta()
        answer = gateway.order("1").json()
        assert answer == expected
        return counts.total() == 0

    # Redis is used again by itself (after `retry_after`): a request answered entirely from the cache.
    _eventually(from_cache, timeout=10)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_hits_misses_and_subgraph_requests(start_gateway):
    """The counters move as the cache answers (the registry is per process: deltas around own requests)."""
    names = (
        'fedgate_cache_hits_total{cache="entity"}',
        'fedgate_cache_misses_total{cache="entity"}',
        'fedgate_cache_hits_total{cache="plan"}',
        'fedgate_subgraph_requests_total{subgraph="payments"}',
    )
    hits, misses, plan_hits, payments = names
    gateway = start_gateway({"cache": {"entities": {"enabled": True}}})

    def scrape() -> dict[str, float]:
        text = gateway.client.get(f"{gateway.base}/metrics").text
        return {name: _metric(text, name) for name in names}

    before = scrape()
    gateway.order("3")
    cold = scrape()
    gateway.order("3")
    warm = scrape()
    assert cold[misses] > before[misses] and cold[payments] > before[payments]
    assert warm[hits] > cold[hits] and warm[misses] == cold[misses] and warm[payments] == cold[payments]
    assert warm[plan_hits] > cold[plan_hits]  # the second request found its operation prepared

    plain = start_gateway()  # cache off: the entity counters do not move
    plain.order("4")
    plain.order("4")
    off = scrape()
    assert off[hits] == warm[hits] and off[misses] == warm[misses]
