"""The prepared operation: each distinct query text becomes an AST once, however often it is sent and
whatever its limits, validation and authorization need; what clients get is unchanged."""

from __future__ import annotations

import re

import httpx
import orjson
from shop import ServerThread  # tests/execution is on sys.path (conftest)

from gateway.config import GatewayConfig
from gateway.server import create_app

PARSES = re.compile(rb"^fedgate_document_parses_total (\S+)$", re.MULTILINE)


def _parses(base: str) -> float:
    scraped = httpx.get(base + "/metrics").content
    match = PARSES.search(scraped)
    assert match is not None, "fedgate_document_parses_total is missing from /metrics"
    return float(match.group(1))


def _post(url: str, body: dict) -> httpx.Response:
    headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}
    return httpx.post(url, content=orjson.dumps(body), headers=headers)


def test_one_parse_per_distinct_operation(shop_supergraph):
    config = GatewayConfig(limits={"max_depth": 10, "max_cost": 10_000})
    with ServerThread(create_app(shop_supergraph, config), lifespan="on") as server:
        url = server.url
        base = url.removesuffix("/graphql")
        before = _parses(base)
        top = "query Top { topProducts(first: 2) { name reviews { id } } }"
        for _ in range(5):
            answer = _post(url, {"query": top}).json()
            assert answer == {"data": {"topProducts": [{"name": "Table", "reviews": [{"id": "r1"}, {"id": "r2"}]}, {"name": "Couch", "reviews": [{"id": "r3"}, {"id": "r4"}]}]}}
        # The same text by GET, and under each of its operations by name, is still one document.
        two = "query A { product(upc: \"1\") { name } } query B { product(upc: \"2\") { name } }"
        assert _post(url, {"query": two, "operationName": "A"}).json() == {"data": {"product": {"name": "Table"}}}
        assert _post(url, {"query": two, "operationName": "B"}).json() == {"data": {"product": {"name": "Couch"}}}
        got = httpx.get(url, params={"query": two, "operationName": "B"}, headers={"apollo-require-preflight": "1"}).json()
        assert got == {"data": {"product": {"name": "Couch"}}}
        # Refused documents are prepared once too.
        for _ in range(3):
            invalid = _post(url, {"query": "{ nope }"})
            assert invalid.status_code == 400
            assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert _parses(base) - before == 3
        assert server.server.config.app.state.gateway.pipeline.preparation.parses == 3
