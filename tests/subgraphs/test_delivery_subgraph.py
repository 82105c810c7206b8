"""The delivery subgraph as a real process, reading orders from a real orders subgraph."""

from __future__ import annotations

import sqlite3

import pytest

ENTITIES = """
query ($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Order { id estimatedDeliveryMinutes delivery { id status agent { name } pickup { slug city name averagePrepMinutes } } }
    ... on Restaurant { slug city averagePrepMinutes }
    ... on Agent { id name vehicle }
  }
}
"""


def snapshot(db_path):
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in ("agents", "deliveries")}


def test_entities_with_requires_and_compound_key(subgraphs):
    body = subgraphs["delivery"].query(
        ENTITIES,
        {
            "r": [
                {"__typename": "Order", "id": "1", "deliveryAddress": {"city": "Berlin"}},
                {"__typename": "Order", "id": "2", "deliveryAddress": {"city": "Hamburg"}},
                {"__typename": "Restaurant", "slug": "curry-36", "city": "Berlin"},
                {"__typename": "Restaurant", "slug": "new-place", "city": "Munich"},
                {"__typename": "Agent", "id": "3"},
            ]
        },
    )

    assert "errors" not in body
    delivered, waiting, partner, unknown_partner, agent = body["data"]["_entities"]
    assert delivered["estimatedDeliveryMinutes"] == 0
    assert delivered["delivery"] == {
        "id": "1",
        "status": "DELIVERED",
        "agent": {"name": "Kai Becker"},
        "pickup": {"slug": "napoli", "city": "Berlin", "name": "Pizzeria Napoli", "averagePrepMinutes": 15},
    }
    assert waiting == {"__typename": "Order", "id": "2", "estimatedDeliveryMinutes": 35, "delivery": None}
    assert partner == {"__typename": "Restaurant", "slug": "curry-36", "city": "Berlin", "averagePrepMinutes": 8}
    assert unknown_partner["averagePrepMinutes"] == 15
    assert agent == {"__typename": "Agent", "id": "3", "name": "Jonas Wolf", "vehicle": "CAR"}


def test_estimate_without_the_required_city_is_a_coded_error(subgraphs):
    body = subgraphs["delivery"].query(
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { estimatedDeliveryMinutes } } }",
        {"r": [{"__typename": "Order", "id": "2"}]},
    )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_assign_and_complete_round_trip(fresh_subgraphs):
    delivery = fresh_subgraphs["delivery"]
    # Seeded order 5 is APPROVED, to Berlin, with no agent yet (tests/saga covers orders the saga moves).
    assigned = delivery.query(
        'mutation { assignAgent(orderId: "5") { id status order { id } agent { id city available } pickup { name } } }'
    )["data"]["assignAgent"]
    assert assigned["status"] == "ASSIGNED"
    assert assigned["agent"] == {"id": "1", "city": "Berlin", "available": False}
    assert assigned["pickup"] == {"name": "Pizzeria Napoli"}

    again = delivery.query('mutation { assignAgent(orderId: "5") { id } }')
    assert again["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"

    done = delivery.query(
        "mutation ($id: ID!) { completeDelivery(id: $id) { status deliveredAt agent { available } } }",
        {"id": assigned["id"]},
    )["data"]["completeDelivery"]
    assert done["status"] == "DELIVERED" and done["deliveredAt"] and done["agent"]["available"] is True

    with sqlite3.connect(f"file:{delivery.db_path}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT status, agent_id, pickup_slug FROM deliveries WHERE order_id = '5'").fetchone()
    assert row == ("DELIVERED", 1, "napoli")


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ('mutation { assignAgent(orderId: "404") { id } }', "NOT_FOUND"),
        ('mutation { assignAgent(orderId: "4") { id } }', "INVALID_STATUS_TRANSITION"),  # PLACED, not approved
        ('mutation { assignAgent(orderId: "1") { id } }', "INVALID_STATUS_TRANSITION"),  # already delivered
        ('mutation { completeDelivery(id: "1") { id } }', "INVALID_STATUS_TRANSITION"),
        ('mutation { completeDelivery(id: "404") { id } }', "NOT_FOUND"),
    ],
)
def test_rejected_deliveries_have_a_code_and_leave_the_database_unchanged(subgraphs, mutation, code):
    delivery = subgraphs["delivery"]
    before = snapshot(delivery.db_path)

    body = delivery.query(mutation)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert snapshot(delivery.db_path) == before
