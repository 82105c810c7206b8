"""The payments subgraph as a real process, reading orders from a real orders subgraph."""

from __future__ import annotations

import sqlite3

import pytest

ORDER_ENTITIES = """
query ($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order {
      id isPaid refundDue
      payment { id status amount { cents currency } details { __typename ... on CardDetails { brand last4 } ... on CashDetails { collectOnDelivery } } }
    }
    ... on Payment { id method processorReference order { id } }
  }
}
"""


def snapshot(db_path):
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT * FROM payments ORDER BY id").fetchall()


def place_order(orders):
    body = orders.query(
        """mutation { placeOrder(input: {customerId: "3", restaurantId: "2", items: [{menuItemId: "5", quantity: 3}],
             deliveryAddress: {street: "Reeperbahn 1", city: "Hamburg", postalCode: "20359"}}) { id } }"""
    )
    return body["data"]["placeOrder"]["id"]


def test_order_entities_use_the_required_status(subgraphs):
    body = subgraphs["payments"].query(
        ORDER_ENTITIES,
        {
            "r": [
                {"__typename": "Order", "id": "1", "status": "APPROVED"},
                {"__typename": "Order", "id": "3", "status": "CANCELLED"},
                {"__typename": "Order", "id": "4", "status": "PLACED"},
                {"__typename": "Payment", "id": "3"},
            ]
        },
    )

    assert "errors" not in body
    paid, cancelled, unpaid, payment = body["data"]["_entities"]
    assert paid["isPaid"] is True and paid["refundDue"] is False
    assert paid["payment"]["details"] == {"__typename": "CardDetails", "brand": "VISA", "last4": "4242"}
    assert cancelled["refundDue"] is True
    assert unpaid == {"id": "4", "isPaid": False, "refundDue": False, "payment": None}
    assert payment == {"id": "3", "method": "CASH", "processorReference": "sandbox_seed_3", "order": {"id": "5"}}


def test_refund_due_without_the_required_field_is_a_coded_error(subgraphs):
    body = subgraphs["payments"].query(
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { refundDue } } }",
        {"r": [{"__typename": "Order", "id": "3"}]},
    )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_pay_cancel_refund_round_trip(fresh_subgraphs):
    orders, payments = fresh_subgraphs["orders"], fresh_subgraphs["payments"]
    order_id = place_order(orders)

    paid = payments.query(
        "mutation ($id: ID!) { payOrder(orderId: $id, method: CARD) { status amount { cents } order { id } } }",
        {"id": order_id},
    )
    assert paid == {"data": {"payOrder": {"status": "CAPTURED", "amount": {"cents": 3600}, "order": {"id": order_id}}}}

    not_yet = payments.query('mutation ($id: ID!) { refundPayment(orderId: $id) { id } }', {"id": order_id})
    assert not_yet["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"

    orders.query("mutation ($id: ID!) { cancelOrder(id: $id) { status } }", {"id": order_id})
    refunded = payments.query(
        "mutation ($id: ID!) { refundPayment(orderId: $id) { status refundedAt } }", {"id": order_id}
    )
    assert refunded["data"]["refundPayment"]["status"] == "REFUNDED"
    assert refunded["data"]["refundPayment"]["refundedAt"]

    with sqlite3.connect(f"file:{payments.db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT status, amount_cents FROM payments WHERE order_id = ?", (order_id,)).fetchall()
    assert rows == [("REFUNDED", 3600)]


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ('mutation { payOrder(orderId: "404", method: CARD) { id } }', "NOT_FOUND"),
        ('mutation { payOrder(orderId: "1", method: CASH) { id } }', "INVALID_STATUS_TRANSITION"),  # already paid
        ('mutation { payOrder(orderId: "3", method: CARD) { id } }', "INVALID_STATUS_TRANSITION"),  # cancelled
        ('mutation { refundPayment(orderId: "2") { id } }', "INVALID_STATUS_TRANSITION"),  # not cancelled
        ('mutation { refundPayment(orderId: "404") { id } }', "NOT_FOUND"),
    ],
)
def test_rejected_payments_have_a_code_and_leave_the_database_unchanged(subgraphs, mutation, code):
    payments = subgraphs["payments"]
    before = snapshot(payments.db_path)

    body = payments.query(mutation)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert snapshot(payments.db_path) == before


def test_orders_subgraph_down_is_service_unavailable(start_subgraph, free_port):
    payments = start_subgraph("payments", orders_url=f"http://127.0.0.1:{free_port()}/graphql")

    body = payments.query('mutation { payOrder(orderId: "2", method: CARD) { id } }')

    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
