"""At-least-once delivery with exactly-once effect: a redelivered event changes nothing, and an
event no handler can apply ends in the dead-letter stream while the rest keep flowing."""

from __future__ import annotations

import orjson
import pytest
import redis

from tests.saga.conftest import wait_for


@pytest.fixture(scope="module")
def stack(shared_stack):
    return shared_stack


def client(stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env["REDIS_URL"])


def entries(r: redis.Redis, stream: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    return r.xrange(stream)


def snapshot(stack, order_id):
    with stack.db("payments") as conn:
        payments = [tuple(r) for r in conn.execute("SELECT * FROM payments WHERE order_id = ?", (order_id,))]
    with stack.db("delivery") as conn:
        deliveries = [tuple(r) for r in conn.execute("SELECT * FROM deliveries WHERE order_id = ?", (order_id,))]
        agents = [tuple(r) for r in conn.execute("SELECT * FROM agents")]
    return payments, deliveries, agents, stack.order(order_id)


def consumed(stack, service, outcome) -> float:
    import httpx

    total = 0.0
    for line in httpx.get(f"{stack[service].base_url}/metrics").text.splitlines():
        if line.startswith("fedgate_events_consumed_total{") and f'outcome="{outcome}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_the_same_event_delivered_twice_changes_nothing(stack):
    placed = stack.place()
    stack.wait_final([placed["id"]])
    r = client(stack)
    prefix = stack.env["EVENTS_PREFIX"]
    wait_for(lambda: "PaymentCaptured" in [e["type"] for e in stack.order(placed["id"])["events"]])
    before = snapshot(stack, placed["id"])
    duplicates_before = {s: consumed(stack, s, "duplicate") for s in ("orders", "payments", "delivery")}

    # Publish every event of this order a second time, as a relay that crashed before marking them sent would.
    copies = 0
    for source in ("orders", "payments", "delivery"):
        for _id, fields in entries(r, f"{prefix}:events:{source}"):
            event = orjson.loads(fields[b"event"])
            if event["orderId"] == placed["id"] and event["type"] != "OrderStatusChanged":
                r.xadd(f"{prefix}:events:{source}", {"event": fields[b"event"]})
                copies += 1
    # OrderPlaced, OrderApproved, PaymentCaptured, AgentAssigned, OrderPickedUp, OrderDelivered
    assert copies == 6

    # orders reads payments' and delivery's 4; payments reads OrderPlaced; delivery reads OrderApproved.
    wait_for(
        lambda: consumed(stack, "orders", "duplicate") - duplicates_before["orders"] >= 4
        and consumed(stack, "payments", "duplicate") - duplicates_before["payments"] >= 1
        and consumed(stack, "delivery", "duplicate") - duplicates_before["delivery"] >= 1,
        what="the copies consumed as duplicates",
    )
    assert snapshot(stack, placed["id"]) == before


def test_a_poison_event_is_dead_lettered_after_n_tries_and_the_rest_flow(stack):
    r = client(stack)
    prefix = stack.env["EVENTS_PREFIX"]
    # Garbage on orders' stream (payments and delivery read it) and an event about an order nobody has.
    r.xadd(f"{prefix}:events:orders", {"event": b"{not json"})
    ghost = orjson.dumps({"id": "ghost-1", "type": "PaymentCaptured", "orderId": "999999", "source": "payments",
                          "at": "2026-12-04T00:00:00.000000Z", "data": {}})
    r.xadd(f"{prefix}:events:payments", {"event": ghost})

    placed = [stack.place()["id"] for _ in range(3)]
    assert set(stack.wait_final(placed).values()) <= {"DELIVERED", "CANCELLED"}

    def dead(group):
        return [e for e in entries(r, f"{prefix}:deadletter:{group}") if e[1][b"event"] in (ghost, b"{not json")]

    wait_for(lambda: dead("orders") and dead("payments") and dead("delivery"), timeout=30, what="dead letters")
    [(_, orders_dead)] = dead("orders")
    assert orders_dead[b"event"] == ghost
    assert orders_dead[b"deliveries"] == b"3"  # EVENTS_MAX_DELIVERIES in tests/saga/conftest.py
    assert b"999999" in orders_dead[b"error"]
    for group in ("payments", "delivery"):
        [(_, fields)] = dead(group)
        assert fields[b"event"] == b"{not json" and fields[b"group"] == group.encode()
    # Dead-lettered entries are acknowledged: nothing stays pending.
    for group, source in (("orders", "payments"), ("payments", "orders"), ("delivery", "orders")):
        wait_for(lambda g=group, s=source: r.xpending(f"{prefix}:events:{s}", g)["pending"] == 0, what=f"{group} drained")


def test_operators_list_replay_and_drop_dead_letters(stack, monkeypatch, capsys):
    from subgraphs.common.bus.deadletter import main

    r = client(stack)
    prefix = stack.env["EVENTS_PREFIX"]
    monkeypatch.setenv("REDIS_URL", stack.env["REDIS_URL"])
    monkeypatch.setenv("EVENTS_PREFIX", prefix)
    ghost = orjson.dumps({"id": "ghost-2", "type": "AgentAssigned", "orderId": "888888", "source": "delivery",
                          "at": "2026-12-04T00:00:00.000000Z", "data": {}})
    r.xadd(f"{prefix}:events:delivery", {"event": ghost})

    def parked():
        return [f for _, f in r.xrange(f"{prefix}:deadletter:orders") if f[b"event"] == ghost]

    wait_for(parked, timeout=30, what="ghost dead-lettered")
    assert main(["list", "orders"]) == 0
    assert "AgentAssigned order 888888 event ghost-2" in capsys.readouterr().out

    # Replayed, it fails again (the order still does not exist) and comes back after N deliveries.
    [(entry_id, _)] = [(i, f) for i, f in r.xrange(f"{prefix}:deadletter:orders") if f[b"event"] == ghost]
    assert main(["replay", "orders", entry_id.decode()]) == 0
    assert not parked()
    wait_for(parked, timeout=30, what="ghost dead-lettered again")

    [(entry_id, _)] = [(i, f) for i, f in r.xrange(f"{prefix}:deadletter:orders") if f[b"event"] == ghost]
    assert main(["drop", "orders", entry_id.decode()]) == 0
    assert not parked()
