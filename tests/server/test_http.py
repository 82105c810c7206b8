"""The HTTP surface: POST/GET /graphql, /health, request errors, content types, the exposed plan."""

from __future__ import annotations

import httpx
import orjson
from shop import ServerThread

from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph

CROSS = "{ topProducts(first: 2) { name shippingEstimate reviews { author { username } } } }"
CROSS_DATA = {
    "topProducts": [
        {"name": "Table", "shippingEstimate": 89, "reviews": [{"author": {"username": "ada"}}, {"author": {"username": "grace"}}]},
        {"name": "Couch", "shippingEstimate": 1299, "reviews": [{"author": {"username": "ada"}}, {"author": {"username": "grace"}}]},
    ]
}


def post(url: str, body: object, **headers: str) -> httpx.Response:
    return httpx.post(url, content=orjson.dumps(body), headers={"content-type": "application/json", **headers})


def test_health(gateway_url):
    response = httpx.get(gateway_url.replace("/graphql", "/health"))
    assert response.status_code == 200


def test_ready_before_a_supergraph_is_loaded_and_health_is_liveness_only():
    with ServerThread(create_app(None), lifespan="on") as server:
        assert httpx.get(server.url.replace("/graphql", "/health")).status_code == 200
        ready = httpx.get(server.url.replace("/graphql", "/ready"))
        assert ready.status_code == 503 and ready.json()["status"] == "no_supergraph"
        response = post(server.url, {"query": "{ __typename }"})
        assert response.status_code == 503


def test_ready_and_metrics_show_an_open_circuit(shop, shop_sdl, free_port):
    sdl = shop_sdl.replace(shop["reviews"].url, f"http://127.0.0.1:{free_port()}/graphql")  # nothing listens
    traffic = {"all": {"retry": {"max_attempts": 1}, "circuit_breaker": {"failure_threshold": 1, "open_duration": 60}}}
    config = GatewayConfig.model_validate({"traffic_shaping": traffic})
    with ServerThread(create_app(load_supergraph(sdl), config), lifespan="on") as server:
        before = httpx.get(server.url.replace("/graphql", "/ready")).json()["circuits"]
        assert before == {"products": "closed", "inventory": "closed", "reviews": "closed"}  # before any call
        body = post(server.url, {"query": CROSS}).json()
        assert {e["extensions"]["code"] for e in body["errors"]} == {"SUBGRAPH_UNAVAILABLE"}
        assert {e["extensions"]["serviceName"] for e in body["errors"]} == {"reviews"}
        ready = httpx.get(server.url.replace("/graphql", "/ready"))
        assert ready.status_code == 200
        assert ready.json()["circuits"] == {"products": "closed", "inventory": "closed", "reviews": "open"}
        metrics = httpx.get(server.url.replace("/graphql", "/metrics")).text
        assert 'fedgate_circuit_state{subgraph="reviews"} 2.0' in metrics


def test_post_cross_subgraph_query(gateway_url):
    response = post(gateway_url, {"query": CROSS})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": CROSS_DATA}


PREFLIGHT = {"apollo-require-preflight": "true"}


def test_get_query_with_variables(gateway_url):
    query = "query ($upc: String!) { product(upc: $upc) { name inStock } }"
    # A GET without a content type is a "simple" request: CSRF prevention wants the preflight header.
    response = httpx.get(gateway_url, params={"query": query, "variables": '{"upc": "2"}'}, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.json() == {"data": {"product": {"name": "Couch", "inStock": False}}}


def test_mutation_over_get_is_refused(gateway_url):
    response = httpx.get(
        gateway_url, params={"query": 'mutation { createProduct(name: "x") { upc } }'}, headers=PREFLIGHT
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["message"]
    assert "data" not in response.json()


def test_mutation_over_post(gateway_url):
    response = post(gateway_url, {"query": 'mutation { createProduct(name: "Lamp") { upc name } }'})
    assert response.json() == {"data": {"createProduct": {"upc": "new", "name": "Lamp"}}}


def test_graphql_response_json_when_accepted(gateway_url):
    response = post(gateway_url, {"query": "{ __typename }"}, accept="application/graphql-response+json")
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json() == {"data": {"__typename": "Query"}}


def error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


GRAPHQL_REQUEST_ERRORS = [
    ({"query": "{ topProducts { "}, "GRAPHQL_PARSE_FAILED"),
    ({"query": "{ topProducts { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ({"query": "query A { __typename }", "operationName": "B"}, "OPERATION_NOT_FOUND"),
    ({"query": "query ($n: Int) { topProducts(first: $n) { name } }", "variables": {"n": "x"}}, "BAD_USER_INPUT"),
    ({"query": "query ($u: String!) { product(upc: $u) { name } }"}, "BAD_USER_INPUT"),
]


def test_request_errors_are_400_under_graphql_response_json(gateway_url):
    for body, code in [*GRAPHQL_REQUEST_ERRORS, ({"variables": {}}, "BAD_REQUEST")]:
        response = post(gateway_url, body, accept="application/graphql-response+json")
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/graphql-response+json"
        assert error_code(response) == code, body
        assert "data" not in response.json()


def test_request_errors_are_200_under_application_json(gateway_url):
    # GraphQL over HTTP, application/json: a well-formed request is answered 200 whatever GraphQL
    # request error it raises (a 4xx JSON body could come from any proxy on the way).
    for accept in ("application/json", None, "*/*", "application/graphql-response+json;q=0.5, application/json"):
        for body, code in GRAPHQL_REQUEST_ERRORS:
            response = post(gateway_url, body, **({"accept": accept} if accept else {}))
            assert response.status_code == 200, (accept, body)
            assert response.headers["content-type"] == "application/json"
            assert error_code(response) == code, body
            assert "data" not in response.json()
    # Not a well-formed GraphQL-over-HTTP request (no query): still a 400.
    assert post(gateway_url, {"variables": {}}, accept="application/json").status_code == 400


def test_accept_is_negotiated_by_quality(gateway_url):
    cases = {
        "application/graphql-response+json, application/json;q=0.9": "application/graphql-response+json",
        "application/json, application/graphql-response+json": "application/json",
        "application/json;q=0.2, application/graphql-response+json;q=0.8": "application/graphql-response+json",
        "text/html, application/*;q=0.5": "application/json",
        "application/graphql-response+json;q=0, application/json": "application/json",
    }
    for accept, expected in cases.items():
        response = post(gateway_url, {"query": "{ __typename }"}, accept=accept)
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == expected, accept
        assert response.json() == {"data": {"__typename": "Query"}}


def test_accept_without_a_served_media_type_is_406(gateway_url):
    for accept in ("text/html", "application/xml, text/plain;q=0.5", "application/json;q=0"):
        response = post(gateway_url, {"query": "{ __typename }"}, accept=accept)
        assert response.status_code == 406, accept
        assert response.headers["content-type"] == "application/json"
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    got = httpx.get(gateway_url, params={"query": "{ __typename }"}, headers={**PREFLIGHT, "accept": "text/html"})
    assert got.status_code == 406


def test_malformed_json_body_is_a_400_graphql_error(gateway_url):
    for raw in (b"{not json", b"[1, 2]", b""):
        response = httpx.post(gateway_url, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"]


def test_subgraph_error_keeps_partial_data(gateway_url):
    response = post(gateway_url, {"query": '{ product(upc: "2") { reviews { body } } }'})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"product": {"reviews": [{"body": "Could be better."}, {"body": None}]}}
    assert body["errors"][0]["path"] == ["product", "reviews", 1, "body"]
    assert body["errors"][0]["extensions"]["serviceName"] == "reviews"


def test_inaccessible_enum_output_becomes_null(gateway_url):
    response = post(gateway_url, {"query": '{ product(upc: "3") { name category } }'})
    body = response.json()
    assert body["data"] == {"product": {"name": "Chair", "category": None}}
    assert body["errors"][0]["path"] == ["product", "category"]


def test_exposed_query_plan(gateway_url, quiet_gateway_url):
    response = post(gateway_url, {"query": CROSS}, **{"Apollo-Expose-Query-Plan": "true"})
    body = response.json()
    assert body["data"] == CROSS_DATA
    plan = body["extensions"]["apolloQueryPlan"]
    assert plan["object"]["kind"] == "QueryPlan"
    assert plan["text"].startswith("QueryPlan {")
    assert "Flatten(path: \"topProducts.@\")" in plan["text"]
    # Without the header, or with the feature disabled, no plan.
    assert "extensions" not in post(gateway_url, {"query": CROSS}).json()
    assert "extensions" not in post(quiet_gateway_url, {"query": CROSS}, **{"Apollo-Expose-Query-Plan": "true"}).json()


def test_introspection(gateway_url):
    query = "{ __schema { queryType { name } mutationType { name } } __type(name: \"Category\") { enumValues { name } } }"
    body = post(gateway_url, {"query": query}).json()
    assert body == {
        "data": {
            "__schema": {"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}},
            "__type": {"enumValues": [{"name": "BOOK"}, {"name": "TOY"}]},
        }
    }


def test_introspection_mixed_with_subgraph_fields(gateway_url):
    query = '{ product(upc: "1") { name __typename } __type(name: "User") { name } __typename }'
    body = post(gateway_url, {"query": query}).json()
    assert body == {
        "data": {"product": {"name": "Table", "__typename": "Product"}, "__type": {"name": "User"}, "__typename": "Query"}
    }
