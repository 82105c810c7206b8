"""Operations through the whole gateway (real planner, real subgraphs): what the client gets back."""

from __future__ import annotations

import httpx
import orjson


def run(url: str, query: str, variables: dict | None = None, operation_name: str | None = None) -> dict:
    body: dict = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    response = httpx.post(url, content=orjson.dumps(body), headers={"content-type": "application/json"})
    return response.json()


def test_aliases_and_same_field_with_different_arguments(gateway_url):
    query = "{ one: topProducts(first: 1) { n: name } two: topProducts(first: 2) { upc name } }"
    assert run(gateway_url, query) == {
        "data": {
            "one": [{"n": "Table"}],
            "two": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}],
        }
    }


def test_named_fragments_and_operation_name(gateway_url):
    query = """
    query First { product(upc: "1") { ...Parts } }
    query Second { product(upc: "2") { ...Parts } }
    fragment Parts on Product { name inStock reviews { author { username } } }
    """
    assert run(gateway_url, query, operation_name="Second") == {
        "data": {
            "product": {
                "name": "Couch",
                "inStock": False,
                "reviews": [{"author": {"username": "ada"}}, {"author": {"username": "grace"}}],
            }
        }
    }


def test_include_with_variable_defaults_and_values(gateway_url, shop):
    query = "query ($stock: Boolean = false) { topProducts(first: 1) { name inStock @include(if: $stock) } }"
    shop["inventory"].requests.clear()
    assert run(gateway_url, query) == {"data": {"topProducts": [{"name": "Table"}]}}
    assert shop["inventory"].requests == []
    assert run(gateway_url, query, {"stock": True}) == {"data": {"topProducts": [{"name": "Table", "inStock": True}]}}
    assert len(shop["inventory"].requests) == 1


def test_skip_with_literal(gateway_url):
    query = '{ product(upc: "1") { name @skip(if: true) upc price @skip(if: false) } }'
    assert run(gateway_url, query) == {"data": {"product": {"upc": "1", "price": 899}}}


def test_requires_sends_deduplicated_representations(gateway_url, shop):
    shop["inventory"].requests.clear()
    query = "{ topProducts { shippingEstimate } again: topProducts(first: 2) { shippingEstimate } }"
    assert run(gateway_url, query) == {
        "data": {
            "topProducts": [{"shippingEstimate": 89}, {"shippingEstimate": 1299}, {"shippingEstimate": 2}],
            "again": [{"shippingEstimate": 89}, {"shippingEstimate": 1299}],
        }
    }
    for request in shop["inventory"].requests:
        reps = request["variables"]["representations"]
        assert len(reps) == len({orjson.dumps(r) for r in reps})


def test_variables_reach_the_subgraph_that_uses_them(gateway_url, shop):
    shop["products"].requests.clear()
    query = "query ($n: Int, $stock: Boolean = true) { topProducts(first: $n) { name inStock @include(if: $stock) } }"
    assert run(gateway_url, query, {"n": 1}) == {"data": {"topProducts": [{"name": "Table", "inStock": True}]}}
    [request] = shop["products"].requests
    assert request["variables"].get("n") == 1
