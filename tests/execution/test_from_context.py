"""`@fromContext` planned and executed through real subgraphs (tests/execution/context_subgraphs.py).

tests/fixtures/context/record.py ran Apollo's JS stack 2.14.4 on the same subgraphs once: its
composition is byte-identical to ours (apollo_supergraph.graphql), but Apollo Gateway refuses to load a
supergraph that uses contexts (apollo_gateway_refusal.txt: only Apollo Router executes them), so the
expected answers are stated here, from the subgraphs' resolvers: `summary` is "order <id> in <locale>"
and `label` "<name>/<id>/<locale>", the context values read from each order's own user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from context_subgraphs import CASES, SDLS, running_context_subgraphs
from shop import ServerThread, Subgraph

from gateway.composition import SubgraphInput, compose
from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "context"
EXPECTED = {
    "list_other_subgraph": {"data": {"users": [
        {"name": "Ada", "orders": [{"id": "o1", "summary": "order o1 in en"}, {"id": "o2", "summary": "order o2 in en"}]},
        {"name": "Grace", "orders": [{"id": "o3", "summary": "order o3 in fr"}]},
        {"name": "Alan", "orders": [{"id": "o4", "summary": "order o4 in None"}]},
    ]}},
    "two_contexts": {"data": {"users": [
        {"orders": [{"label": "Ada/o1/en"}, {"label": "Ada/o2/en"}]},
        {"orders": [{"label": "Grace/o3/fr"}]},
        {"orders": [{"label": "Alan/o4/None"}]},
    ]}},
    "one_user": {"data": {"user": {"orders": [{"summary": "order o3 in fr", "label": "Grace/o3/fr"}]}}},
    "null_value": {"data": {"user": {"orders": [{"summary": "order o4 in None"}]}}},
}


def _compose(urls: dict[str, str]) -> str:
    result = compose([SubgraphInput(name, urls[name], SDLS[name]) for name in ("accounts", "orders")])
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


def test_composition_is_byte_identical_to_apollos() -> None:
    urls = {name: f"http://{name}.invalid/graphql" for name in SDLS}
    assert _compose(urls) == (FIXTURES / "apollo_supergraph.graphql").read_text()


@pytest.fixture(scope="module")
def context_gateway() -> Iterator[tuple[str, dict[str, Subgraph]]]:
    with running_context_subgraphs() as subgraphs:
        sdl = _compose({name: sg.url for name, sg in subgraphs.items()})
        with ServerThread(create_app(load_supergraph(sdl), GatewayConfig()), lifespan="on") as server:
            yield server.url, subgraphs


@pytest.mark.parametrize("case", sorted(CASES))
def test_answers(context_gateway: tuple[str, dict[str, Subgraph]], case: str) -> None:
    url, _ = context_gateway
    answer = httpx.post(url, json={"query": CASES[case]}, timeout=20).json()
    assert answer == EXPECTED[case]


def test_each_context_value_is_sent_as_a_variable_once_per_distinct_value(context_gateway) -> None:
    url, subgraphs = context_gateway
    orders = subgraphs["orders"].requests
    orders.clear()
    body = httpx.post(url, json={"query": CASES["list_other_subgraph"]}, timeout=20).json()
    assert "errors" not in body
    contextual = [r for r in orders if "contextualArgument_" in r["query"]]
    # Users u1 (en), u2 (fr), u3 (null): one _entities call per distinct locale, all of a user's orders in it.
    sent = sorted(
        (json.dumps(v.get("contextualArgument_1_0")), len(v["representations"])) for v in (r["variables"] for r in contextual)
    )
    assert sent == [('"en"', 2), ('"fr"', 1), ("null", 1)]


def test_plan_reads_the_context_from_the_ancestor_fetch(context_gateway) -> None:
    url, _ = context_gateway
    body = httpx.post(url, json={"query": CASES["two_contexts"]}, headers={"apollo-expose-query-plan": "true"}, timeout=20).json()
    text: str = body["extensions"]["apolloQueryPlan"]["text"]
    assert "label(locale: $contextualArgument_1_0, who: $contextualArgument_1_1)" in text
    assert 'Flatten(path: "users.@.orders.@")' in text


