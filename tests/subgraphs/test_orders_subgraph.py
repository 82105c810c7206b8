"""The orders subgraph as a real process: entities, pagination, mutations through SQLite."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

ENTITIES = """
query ($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Order { id status total { cents currency } items { quantity menuItem { name } } customer { name } }
    ... on Restaurant { id slug city name }
    ... on Customer { id name }
  }
}
"""

PLACE = """
mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status total { cents currency } items { quantity subtotal { cents } } }
}
"""


def place_input(**overrides):
    data = {
        "customerId": "2",
        "restaurantId": "1",
        "items": [{"menuItemId": "1", "quantity": 2}, {"menuItemId": "3", "quantity": 1}],
        "deliveryAddress": {"street": "Alexanderplatz 1", "city": "Berlin", "postalCode": "10178"},
    }
    data.update(overrides)
    return data


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read straight from the SQLite file."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def test_entities_by_id_and_by_compound_key_in_request_order(subgraphs):
    body = subgraphs["orders"].query(
        ENTITIES,
        {
            "r": [
                {"__typename": "Order", "id": "1"},
                {"__typename": "Restaurant", "slug": "sushi-go", "city": "Hamburg"},
                {"__typename": "Order", "id": "999"},
                {"__typename": "Customer", "id": "3"},
                {"__typename": "Restaurant", "id": "3"},
            ]
        },
    )

    assert "errors" not in body
    order, by_slug, missing, customer, by_id = body["data"]["_entities"]
    assert order == {
        "__typename": "Order",
        "id": "1",
        "status": "APPROVED",
        "total": {"cents": 2250, "currency": "EUR"},
        "items": [{"quantity": 2, "menuItem": {"name": "Margherita"}}, {"quantity": 1, "menuItem": {"name": "Tiramisu"}}],
        "customer": {"name": "Ada Lovelace"},
    }
    assert by_slug == {"__typename": "Restaurant", "id": "2", "slug": "sushi-go", "city": "Hamburg", "name": "Sushi Go"}
    assert missing is None
    assert customer == {"__typename": "Customer", "id": "3", "name": "Alan Turing"}
    assert by_id["name"] == "Curry 36"


def test_inaccessible_field_is_still_served_by_the_subgraph(subgraphs):
    body = subgraphs["orders"].query('{ customer(id: "1") { email } }')

    assert body == {"data": {"customer": {"email": "ada@example.com"}}}


def test_orders_pagination_walks_every_order_once(subgraphs):
    seen, after = [], None
    while True:
        body = subgraphs["orders"].query(
            "query ($after: String) { orders(first: 2, after: $after) "
            "{ totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        page = body["data"]["orders"]
        seen += [int(e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == page["totalCount"]


def test_orders_filter_by_status(subgraphs):
    body = subgraphs["orders"].query("{ orders(first: 50, status: CANCELLED) { edges { node { id status } } } }")

    assert {e["node"]["status"] for e in body["data"]["orders"]["edges"]} == {"CANCELLED"}


@pytest.mark.parametrize("args", ['first: 500', 'first: 2, after: "not-a-cursor"'])
def test_bad_pagination_arguments_are_bad_user_input(subgraphs, args):
    body = subgraphs["orders"].query(f"{{ orders({args}) {{ totalCount }} }}")

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_place_cancel_round_trip_through_sqlite(start_subgraph):
    orders = start_subgraph("orders")  # no REDIS_URL: the saga's events wait in the outbox

    placed = orders.query(PLACE, {"input": place_input()})["data"]["placeOrder"]
    assert placed["status"] == "PLACED"
    assert placed["total"] == {"cents": 2 * 850 + 550, "currency": "EUR"}
    assert [i["subtotal"]["cents"] for i in placed["items"]] == [1700, 550]

    # Nobody has paid it: the restaurant cannot approve it yet (the saga's order cannot be skipped).
    unpaid = orders.query("mutation ($id: ID!) { approveOrder(id: $id) { status } }", {"id": placed["id"]})
    assert unpaid["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    cancelled = orders.query("mutation ($id: ID!) { cancelOrder(id: $id) { status } }", {"id": placed["id"]})
    assert cancelled == {"data": {"cancelOrder": {"status": "CANCELLED"}}}

    with sqlite3.connect(f"file:{orders.db_path}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT status, total_cents FROM orders WHERE id = ?", (placed["id"],)).fetchone()
        waiting = conn.execute(
            "SELECT type FROM outbox WHERE order_id = ? AND sent_at IS NULL ORDER BY seq", (placed["id"],)
        ).fetchall()
    assert row == ("CANCELLED", 2250)
    assert [t for (t,) in waiting] == ["OrderStatusChanged", "OrderPlaced", "OrderStatusChanged", "OrderCancelled"]

    # A restarted process keeps the file (no second seeding) and reads back what was written.
    # uvicorn drains, runs the lifespan shutdown (closing SQLite), then re-raises SIGTERM.
    assert orders.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in orders.log()
    reopened = start_subgraph("orders", db_path=orders.db_path)
    again = reopened.query(
        "query ($id: ID!) { order(id: $id) { status events { type service status } } orders { totalCount } }",
        {"id": placed["id"]},
    )
    assert again == {
        "data": {
            "order": {
                "status": "CANCELLED",
                "events": [
                    {"type": "OrderPlaced", "service": "orders", "status": "PLACED"},
                    {"type": "OrderCancelled", "service": "orders", "status": "CANCELLED"},
                ],
            },
            "orders": {"totalCount": 6},
        }
    }

    cancelled = reopened.query('mutation { cancelOrder(id: "2") { id status } }')
    assert cancelled == {"data": {"cancelOrder": {"id": "2", "status": "CANCELLED"}}}


@pytest.mark.parametrize(
    ("mutation", "variables", "code"),
    [
        ("mutation { approveOrder(id: \"424242\") { id } }", {}, "NOT_FOUND"),
        ("mutation { approveOrder(id: \"nope\") { id } }", {}, "NOT_FOUND"),
        ("mutation { approveOrder(id: \"3\") { id } }", {}, "INVALID_STATUS_TRANSITION"),
        ("mutation { cancelOrder(id: \"3\") { id } }", {}, "INVALID_STATUS_TRANSITION"),
        ("mutation { approveOrder(id: \"2\") { id } }", {}, "INVALID_STATUS_TRANSITION"),  # PLACED, not paid
        ("mutation { rejectOrder(id: \"1\") { id } }", {}, "INVALID_STATUS_TRANSITION"),  # already approved
        (PLACE, {"input": place_input(payment={"method": "CARD", "cardNumber": "12ab"})}, "BAD_USER_INPUT"),
        (PLACE, {"input": place_input(customerId="77")}, "NOT_FOUND"),
        (PLACE, {"input": place_input(items=[])}, "BAD_USER_INPUT"),
        # The first item is valid and written before the second fails: the whole order must go.
        (PLACE, {"input": place_input(items=[{"menuItemId": "1", "quantity": 1}, {"menuItemId": "6", "quantity": 1}])},
         "BAD_USER_INPUT"),
        (PLACE, {"input": place_input(items=[{"menuItemId": "1", "quantity": 1}, {"menuItemId": "2", "quantity": 0}])},
         "BAD_USER_INPUT"),
    ],
)
def test_rejected_mutations_have_a_code_and_leave_the_database_unchanged(subgraphs, mutation, variables, code):
    orders = subgraphs["orders"]
    before = snapshot(orders.db_path)

    body = orders.query(mutation, variables)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert snapshot(orders.db_path) == before
