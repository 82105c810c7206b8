"""The saga's paths, each through real processes and a real Redis: what a customer sees in
`Order.events`, and what the payments and delivery databases hold afterwards."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.saga.conftest import wait_for

DECLINED_CARD = "4000000000000002"


@pytest.fixture(scope="module")
def fast(shared_stack):
    """Everything automatic and immediate; totals above 50.00 EUR are declined."""
    return shared_stack


@pytest.fixture(scope="module")
def manual(saga_stack):
    """Payment is automatic; approval, pickup and delivery happen only when asked for."""
    return saga_stack(SAGA_AUTO_APPROVE_SECONDS="-1", SAGA_PICKUP_SECONDS="-1", SAGA_RIDE_SECONDS="-1")


def types(order):
    return [e["type"] for e in order["events"]]


def payments_of(stack, order_id):
    with stack.db("payments") as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT status, amount_cents FROM payments WHERE order_id = ? ORDER BY id", (order_id,))]


def deliveries_of(stack, order_id):
    with stack.db("delivery") as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT status, agent_id FROM deliveries WHERE order_id = ? ORDER BY id", (order_id,))]


def agents_free(stack):
    with stack.db("delivery") as conn:
        return {r[0]: bool(r[1]) for r in conn.execute("SELECT id, available FROM agents")}


def test_happy_path_ends_delivered_with_one_capture_and_one_agent(fast):
    stack = fast
    placed = stack.place(items=[{"menuItemId": "1", "quantity": 2}])
    assert placed["status"] == "PLACED"

    assert stack.wait_final([placed["id"]]) == {placed["id"]: "DELIVERED"}
    order = stack.order(placed["id"])
    assert types(order) == [
        "OrderPlaced", "PaymentCaptured", "OrderApproved", "AgentAssigned", "OrderPickedUp", "OrderDelivered"
    ]
    assert [e["service"] for e in order["events"]] == ["orders", "payments", "orders", "delivery", "delivery", "delivery"]
    assert [e["status"] for e in order["events"]] == ["PLACED", "PAID", "APPROVED", "ASSIGNED", "PICKED_UP", "DELIVERED"]
    assert [e["at"] for e in order["events"]] == sorted(e["at"] for e in order["events"])
    assert payments_of(stack, placed["id"]) == [("CAPTURED", 1700)]
    assert deliveries_of(stack, placed["id"]) == [("DELIVERED", 1)]
    assert all(agents_free(stack).values())

    # Every service's /metrics tells what flowed.
    metrics = httpx.get(f"{stack['payments'].base_url}/metrics").text
    assert re.search(r'^fedgate_events_published_total\{service="payments",type="PaymentCaptured"\} [1-9]', metrics, re.M)
    assert "fedgate_events_consumed_total" in metrics and "fedgate_outbox_pending" in metrics
    assert 'fedgate_events_redis_up{service="payments"} 1.0' in metrics

    # Delivered means picked up: too late to cancel.
    late = stack["orders"].query('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', {"id": placed["id"]})
    assert late["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"


def test_declines_end_cancelled_without_capture(fast):
    stack = fast
    by_card = stack.place(card=DECLINED_CARD)
    by_amount = stack.place(items=[{"menuItemId": "2", "quantity": 5}])  # 52.50 EUR > 50.00

    assert stack.wait_final([by_card["id"], by_amount["id"]]) == {by_card["id"]: "CANCELLED", by_amount["id"]: "CANCELLED"}
    for placed, why in ((by_card, "card ending 0002 was declined"), (by_amount, "above the limit of 5000")):
        order = stack.order(placed["id"])
        assert types(order) == ["OrderPlaced", "PaymentDeclined"]
        assert why in order["events"][-1]["detail"]
        assert [status for status, _ in payments_of(stack, placed["id"])] == ["DECLINED"]
        assert deliveries_of(stack, placed["id"]) == []


def test_no_free_agent_cancels_and_refunds(fast):
    stack = fast
    placed = stack.place(city="Springfield")  # no agent works there

    assert stack.wait_final([placed["id"]]) == {placed["id"]: "CANCELLED"}
    # The refund follows the cancellation: wait for it to reach the history too.
    order = wait_for(lambda: (o := stack.order(placed["id"])) and "PaymentRefunded" in types(o) and o)
    assert types(order) == ["OrderPlaced", "PaymentCaptured", "OrderApproved", "NoAgentAvailable", "PaymentRefunded"]
    assert order["events"][3]["service"] == "delivery" and order["events"][4]["service"] == "payments"
    assert payments_of(stack, placed["id"]) == [("REFUNDED", 850)]
    assert deliveries_of(stack, placed["id"]) == []


def test_customer_cancel_before_pickup_refunds_and_frees_the_agent(manual):
    stack = manual
    placed = stack.place(city="Hamburg", restaurant="2", items=[{"menuItemId": "4", "quantity": 1}])
    wait_for(lambda: stack.order(placed["id"])["status"] == "PAID", what="PAID")
    stack["orders"].query('mutation ($id: ID!) { approveOrder(id: $id) { status } }', {"id": placed["id"]})
    wait_for(lambda: stack.order(placed["id"])["status"] == "ASSIGNED", what="ASSIGNED")
    agent = deliveries_of(stack, placed["id"])[0][1]
    assert agents_free(stack)[agent] is False

    body = stack["orders"].query('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', {"id": placed["id"]})
    assert body == {"data": {"cancelOrder": {"status": "CANCELLED"}}}

    wait_for(lambda: payments_of(stack, placed["id"]) == [("REFUNDED", 650)], what="refund")
    wait_for(lambda: deliveries_of(stack, placed["id"]) == [("CANCELLED", agent)], what="delivery cancelled")
    assert agents_free(stack)[agent] is True
    order = wait_for(lambda: (o := stack.order(placed["id"])) and len(o["events"]) == 7 and o)
    assert types(order)[:5] == ["OrderPlaced", "PaymentCaptured", "OrderApproved", "AgentAssigned", "OrderCancelled"]
    assert set(types(order)[5:]) == {"PaymentRefunded", "DeliveryCancelled"}
    assert order["status"] == "CANCELLED"


def test_restaurant_rejection_refunds(manual):
    stack = manual
    placed = stack.place()
    wait_for(lambda: stack.order(placed["id"])["status"] == "PAID", what="PAID")

    body = stack["orders"].query(
        'mutation ($id: ID!) { rejectOrder(id: $id, reason: "out of dough") { status } }', {"id": placed["id"]}
    )
    assert body == {"data": {"rejectOrder": {"status": "CANCELLED"}}}
    wait_for(lambda: payments_of(stack, placed["id"]) == [("REFUNDED", 850)], what="refund")
    order = wait_for(lambda: (o := stack.order(placed["id"])) and "PaymentRefunded" in types(o) and o)
    assert order["events"][2]["detail"] == "rejected by the restaurant: out of dough"
    assert deliveries_of(stack, placed["id"]) == []


def test_explicit_mutations_go_through_the_same_events(manual):
    # Nothing happens by itself after payment: approval and delivery are done by hand.
    stack = manual
    orders, payments, delivery = stack["orders"], stack["payments"], stack["delivery"]
    placed = stack.place()
    wait_for(lambda: stack.order(placed["id"])["status"] == "PAID", what="PAID")

    # The saga charged it already: a second charge is refused.
    again = payments.query('mutation ($id: ID!) { payOrder(orderId: $id, method: CARD) { id } }', {"id": placed["id"]})
    assert again["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"

    approved = orders.query('mutation ($id: ID!) { approveOrder(id: $id) { status } }', {"id": placed["id"]})
    assert approved == {"data": {"approveOrder": {"status": "APPROVED"}}}
    # OrderApproved made delivery assign an agent: assigning by hand now is refused.
    wait_for(lambda: stack.order(placed["id"])["status"] == "ASSIGNED", what="ASSIGNED")
    twice = delivery.query('mutation ($id: ID!) { assignAgent(orderId: $id) { id } }', {"id": placed["id"]})
    assert twice["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"

    delivery_id = delivery.query(
        '{ _entities(representations: [{__typename: "Order", id: "' + placed["id"] + '"}]) '
        "{ ... on Order { delivery { id } } } }"
    )["data"]["_entities"][0]["delivery"]["id"]
    done = delivery.query('mutation ($id: ID!) { completeDelivery(id: $id) { status } }', {"id": delivery_id})
    assert done == {"data": {"completeDelivery": {"status": "DELIVERED"}}}
    assert stack.wait_final([placed["id"]]) == {placed["id"]: "DELIVERED"}
    assert types(stack.order(placed["id"]))[-1] == "OrderDelivered"

    # An order paid by hand (the seeded order 2 never went through placeOrder) joins the saga too.
    paid = payments.query('mutation { payOrder(orderId: "2", method: CASH) { status } }')
    assert paid == {"data": {"payOrder": {"status": "CAPTURED"}}}
    wait_for(lambda: stack.order("2")["status"] == "PAID", what="seeded order PAID")
