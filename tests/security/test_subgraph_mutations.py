"""Bad input to the three subgraphs' mutations (sent to each subgraph directly): always a GraphQL error,
never a 5xx, and the databases stay exactly as they were."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ORDER_FIELDS = "id status"
PLACE = "mutation ($in: PlaceOrderInput!) { placeOrder(input: $in) { id status total { cents } } }"


def _dump(path: Any) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


@pytest.fixture(scope="module")
def subgraphs(subgraph_stack_factory, tmp_path_factory):
    """A stack of our own: a failing run must not leave the session's shared databases changed."""
    stack = subgraph_stack_factory(tmp_path_factory.mktemp("mutations"))
    yield stack
    for proc in reversed(list(stack.values())):
        proc.stop()


@pytest.fixture(scope="module")
def dbs(subgraphs):
    return {name: proc.db_path for name, proc in subgraphs.items()}


def _send(subgraphs, name: str, query: str, variables: Any = None) -> dict[str, Any]:
    response = httpx.post(subgraphs[name].url, json={"query": query, "variables": variables}, timeout=10)
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    assert body.get("errors"), body
    for error in body["errors"]:
        assert isinstance(error["message"], str) and error["message"]
    return body


# Ids that name nothing: negative, zero, huge, or not a plain decimal number at all (" 5", "0005", "٥").
bad_ids = st.one_of(
    st.integers(-10**6, 0).map(str),
    st.integers(10**6, 2**62).map(str),
    st.sampled_from([" 5", "5 ", "0005", "+5", "5_0", "٥", "5.0", "1e1", "", "null", "0x5", "五"]),
    st.text(max_size=40).filter(lambda s: not (s.isascii() and s.isdigit() and s[:1] != "0" and int(s) < 10**6)),
)

address = {"street": "Main 1", "city": "Berlin", "postalCode": "10115"}
good_item = {"menuItemId": "1", "quantity": 1}
bad_place_inputs = st.one_of(
    st.just({"customerId": "1", "restaurantId": "1", "items": [], "deliveryAddress": address}),
    st.integers(-2**31, 0).map(
        lambda q: {"customerId": "1", "restaurantId": "1", "items": [{"menuItemId": "1", "quantity": q}], "deliveryAddress": address}),
    st.integers(51, 2**31 - 1).map(
        lambda q: {"customerId": "1", "restaurantId": "1", "items": [good_item, {"menuItemId": "2", "quantity": q}], "deliveryAddress": address}),
    st.text(max_size=20).map(
        lambda m: {"customerId": "1", "restaurantId": "1", "items": [good_item, {"menuItemId": "zz" + m, "quantity": 1}], "deliveryAddress": address}),
    st.just({"customerId": "1", "restaurantId": "2", "items": [good_item], "deliveryAddress": address}),  # item 1 is not on its menu
    bad_ids.map(lambda i: {"customerId": i, "restaurantId": "1", "items": [good_item], "deliveryAddress": address}),
    bad_ids.map(lambda i: {"customerId": "1", "restaurantId": i, "items": [good_item], "deliveryAddress": address}),
    st.sampled_from(["street", "city", "postalCode"]).flatmap(
        lambda f: st.sampled_from(["", " ", "\t\n"]).map(
            lambda v: {"customerId": "1", "restaurantId": "1", "items": [good_item], "deliveryAddress": {**address, f: v}})),
    # Wrong types: refused by GraphQL variable coercion.
    st.sampled_from([None, [], "x", 1, {"customerId": "1"}]),
    st.sampled_from(["x", 1.5, None, True, [1]]).map(
        lambda q: {"customerId": "1", "restaurantId": "1", "items": [{"menuItemId": "1", "quantity": q}], "deliveryAddress": address}),
)

# Seeded rows (see subgraphs/*/store.py): order 1 APPROVED+paid+delivered, 3 CANCELLED+paid, 2 and 4 PLACED.
REFUSED_TRANSITIONS = [
    ("orders", 'mutation { approveOrder(id: "1") { id } }'),
    ("orders", 'mutation { approveOrder(id: "3") { id } }'),
    ("orders", 'mutation { cancelOrder(id: "3") { id } }'),
    ("payments", 'mutation { payOrder(orderId: "1", method: CARD) { id } }'),
    ("payments", 'mutation { payOrder(orderId: "3", method: CASH) { id } }'),
    ("payments", 'mutation { payOrder(orderId: "1", method: BITCOIN) { id } }'),
    ("payments", 'mutation { refundPayment(orderId: "1") { id } }'),
    ("payments", 'mutation { refundPayment(orderId: "2") { id } }'),
    ("delivery", 'mutation { assignAgent(orderId: "1") { id } }'),
    ("delivery", 'mutation { assignAgent(orderId: "2") { id } }'),
    ("delivery", 'mutation { completeDelivery(id: "1") { id } }'),
]


def test_refused_transitions_change_nothing(subgraphs, dbs):
    before = {name: _dump(path) for name, path in dbs.items()}
    for name, query in REFUSED_TRANSITIONS:
        _send(subgraphs, name, query)
    assert {name: _dump(path) for name, path in dbs.items()} == before


@settings(max_examples=120, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=bad_place_inputs)
def test_bad_place_order_input_is_refused_and_stores_nothing(subgraphs, dbs, data):
    before = _dump(dbs["orders"])
    body = _send(subgraphs, "orders", PLACE, {"in": data})
    assert not body.get("data") or body["data"].get("placeOrder") is None
    assert _dump(dbs["orders"]) == before


MUTATIONS_BY_ID = [
    ("orders", "mutation ($id: ID!) { approveOrder(id: $id) { id } }"),
    ("orders", "mutation ($id: ID!) { cancelOrder(id: $id) { id } }"),
    ("payments", "mutation ($id: ID!) { payOrder(orderId: $id, method: CARD) { id } }"),
    ("payments", "mutation ($id: ID!) { refundPayment(orderId: $id) { id } }"),
    ("delivery", "mutation ($id: ID!) { assignAgent(orderId: $id) { id } }"),
    ("delivery", "mutation ($id: ID!) { completeDelivery(id: $id) { id } }"),
]


@settings(max_examples=120, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(target=st.sampled_from(MUTATIONS_BY_ID), bad_id=bad_ids)
def test_mutations_on_ids_that_name_nothing_are_refused(subgraphs, dbs, target, bad_id):
    name, query = target
    before = _dump(dbs[name])
    _send(subgraphs, name, query, {"id": bad_id})
    assert _dump(dbs[name]) == before
