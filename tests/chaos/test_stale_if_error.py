"""Stale-if-error: with the entity cache on, expired entries answer for a subgraph that is down."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.testclient import TestClient

from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph

ROOT = Path(__file__).resolve().parents[2]
QUERY = '{ order(id: "1") { id status payment { status } } }'


def gateway_config(stale_if_error: float) -> GatewayConfig:
    return GatewayConfig.model_validate(
        {
            "cache": {"entities": {"enabled": True, "ttl": 0.2, "stale_if_error": stale_if_error}},
            "traffic_shaping": {"all": {"retry": {"max_attempts": 1}}},  # fail fast: this test is about the cache
        }
    )


def test_expired_entries_answer_while_their_subgraph_is_down(start_subgraph):
    orders = start_subgraph("orders")
    payments = start_subgraph("payments", orders_url=orders.url)
    sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
    sdl = sdl.replace("http://127.0.0.1:4001/", f"{orders.base_url}/").replace("http://127.0.0.1:4002/", f"{payments.base_url}/")
    supergraph = load_supergraph(sdl)
    with TestClient(create_app(supergraph, gateway_config(60))) as stale_ok, \
            TestClient(create_app(supergraph, gateway_config(0))) as strict:
        fresh = stale_ok.post("/graphql", json={"query": QUERY}).json()
        assert fresh["data"]["order"]["payment"] == {"status": "CAPTURED"} and "extensions" not in fresh
        assert "errors" not in strict.post("/graphql", json={"query": QUERY}).json()
        time.sleep(0.3)  # every entry is past its TTL now

        payments.stop()
        answer = stale_ok.post("/graphql", json={"query": QUERY})
        assert answer.json() == {**fresh, "extensions": {"staleIfError": {"subgraphs": ["payments"]}}}
        assert answer.headers["cache-control"] == "no-store"

        time.sleep(0.3)  # the orders entry that answer refreshed expires too
        orders.stop()
        answer = stale_ok.post("/graphql", json={"query": QUERY})
        assert answer.json() == {**fresh, "extensions": {"staleIfError": {"subgraphs": ["orders", "payments"]}}}

        partial = strict.post("/graphql", json={"query": QUERY}).json()  # without stale-if-error
        assert partial["data"] == {"order": None}
        assert [(e["path"], e["extensions"]) for e in partial["errors"]] == [
            (["order"], {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "orders"})
        ]
