"""Crashes: a service SIGKILLed mid-saga, Redis gone for ten seconds. Every order still finishes,
none is charged twice, no event is lost (the outbox keeps them; Redis keeps its AOF)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.saga.conftest import start_redis, wait_for


def charges(stack, order_ids):
    """{order id: [payment status, ...]} read from the payments database."""
    with stack.db("payments") as conn:
        marks = ", ".join("?" * len(order_ids))
        rows = conn.execute(f"SELECT order_id, status FROM payments WHERE order_id IN ({marks}) ORDER BY id",
                            order_ids).fetchall()
    found: dict[str, list[str]] = {i: [] for i in order_ids}
    for order_id, status in rows:
        found[order_id].append(status)
    return found


def assert_settled(stack, statuses):
    """One payment per order: kept for a delivered one, refunded for a cancelled one."""
    first = charges(stack, list(statuses))

    def settled():
        paid = charges(stack, list(statuses))
        return all(paid[i] == (["CAPTURED"] if s == "DELIVERED" else ["REFUNDED"]) for i, s in statuses.items())

    wait_for(settled, what=f"one capture per delivered order, one refund per cancelled one: {first}")


def test_payments_sigkilled_while_orders_are_placed(shared_stack):
    stack = shared_stack
    placed = [stack.place()["id"] for _ in range(5)]
    payments = stack["payments"]
    os.kill(payments.pid, signal.SIGKILL)
    payments.process.wait(10)

    placed += [stack.place(city="Hamburg" if i % 2 else "Berlin")["id"] for i in range(15)]
    time.sleep(1)
    with stack.db("orders") as conn:
        marks = ", ".join("?" * len(placed))
        waiting = conn.execute(f"SELECT COUNT(*) FROM orders WHERE status = 'PLACED' AND id IN ({marks})", placed)
        assert waiting.fetchone()[0] >= 15

    stack.start("payments", port=payments.port, db_path=payments.db_path)
    statuses = stack.wait_final(placed, timeout=60)
    assert_settled(stack, statuses)
    assert "DELIVERED" in statuses.values()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[list]:
    started: list = []
    yield started
    for proc in started:
        proc.stop()


def test_redis_down_for_ten_seconds_loses_nothing(saga_stack, tmp_path, own_redis):
    redis_dir = tmp_path / "redis"
    redis = start_redis(redis_dir)
    own_redis.append(redis)
    stack = saga_stack(redis=redis)
    before = [stack.place()["id"] for _ in range(3)]
    stack.wait_final(before)

    os.kill(redis.pid, signal.SIGKILL)
    redis.process.wait(10)
    down_at = time.monotonic()
    during = []
    while time.monotonic() - down_at < 10:
        during.append(stack.place(city="Hamburg" if len(during) % 2 else "Berlin")["id"])
        time.sleep(1)
    with stack.db("orders") as conn:
        waiting = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        assert conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'PLACED' AND id > 5").fetchone()[0] == len(during)
    assert waiting >= 2 * len(during)  # OrderStatusChanged + OrderPlaced each, waiting in the outbox
    metrics = httpx.get(f"{stack['orders'].base_url}/metrics").text
    assert 'fedgate_events_redis_up{service="orders"} 0.0' in metrics
    [pending] = [line for line in metrics.splitlines() if line.startswith('fedgate_outbox_pending{service="orders"}')]
    assert float(pending.rsplit(" ", 1)[1]) >= 2 * len(during)

    redis = start_redis(redis_dir, port=redis.port)  # same port, same append-only file
    own_redis.append(redis)
    statuses = stack.wait_final(before + during, timeout=60)
    assert_settled(stack, statuses)
    for name in ("orders", "payments", "delivery"):
        with stack.db(name) as conn:
            wait_for(lambda c=conn: c.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0,
                     what=f"{name} outbox drained")
