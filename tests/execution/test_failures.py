"""Partial results: a fetch that fails for good leaves its fields null with errors at their paths."""

from __future__ import annotations

import copy
from typing import Any

from graphql import build_schema, parse
from plan_helpers import entity_fetch, fields
from shop import FakeSupergraph

from gateway.execution import Executor, coerce_variables
from gateway.planning.nodes import LIST, FetchNode, FlattenNode, ParallelNode, QueryPlan, SequenceNode
from gateway.server.preparation import prepare_operation
from gateway.transport import FetchRequest, SubgraphResponse, TransportError

SCHEMA = build_schema(
    """
    type Query { topProducts: [Product] me: User }
    type Product { upc: String! name: String reviews: [Review!]! stock: Int }
    type Review { body: String }
    type User { id: ID }
    """
)


class FailingTransport:
    """Answers from a script; a subgraph mapped to an exception raises it (an unreachable subgraph)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    async def fetch(self, fetch: FetchRequest) -> SubgraphResponse:
        answer = self.answers[fetch.subgraph]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, SubgraphResponse):
            return SubgraphResponse(answer.status, copy.deepcopy(answer.body))
        return SubgraphResponse(200, copy.deepcopy(answer))  # the executor merges into what it gets


async def run(answers: dict[str, Any], plan: QueryPlan, query: str) -> dict[str, Any]:
    supergraph = FakeSupergraph(SCHEMA, {name: f"http://{name}" for name in ("products", "reviews", "inventory", "users")})
    prepared = prepare_operation(supergraph, parse(query), None, lambda *_: plan)
    variables = coerce_variables(supergraph.api_schema, prepared.operation, None)
    return await Executor(supergraph, FailingTransport(answers)).execute(prepared, variables)


PRODUCTS = {"data": {"topProducts": [{"__typename": "Product", "upc": "1", "name": "A"}, {"__typename": "Product", "upc": "2", "name": "B"}]}}
DOWN = TransportError("HTTP fetch failed from 'x': connection refused", "SUBGRAPH_UNAVAILABLE")
PLAN = QueryPlan(
    ParallelNode(
        (
            SequenceNode(
                (
                    FetchNode("products", "{topProducts{__typename upc name}}"),
                    ParallelNode(
                        (
                            FlattenNode(("topProducts", LIST), entity_fetch("reviews", "Product", fields("upc"), "reviews{body}")),
                            FlattenNode(("topProducts", LIST), entity_fetch("inventory", "Product", fields("upc"), "stock")),
                        )
                    ),
                )
            ),
            FetchNode("users", "{me{id}}"),
        )
    )
)
QUERY = "{ topProducts { name stock reviews { body } } me { id } }"


async def test_failed_root_fetch_is_null_at_its_field_and_the_rest_still_runs():
    result = await run({"products": PRODUCTS, "reviews": {"data": {"_entities": [{"reviews": []}, {"reviews": []}]}},
                        "inventory": {"data": {"_entities": [{"stock": 1}, {"stock": 2}]}}, "users": DOWN}, PLAN, QUERY)
    assert result["data"] == {
        "topProducts": [{"name": "A", "stock": 1, "reviews": []}, {"name": "B", "stock": 2, "reviews": []}],
        "me": None,
    }
    assert result["errors"] == [
        {"message": DOWN.message, "path": ["me"], "extensions": {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "users"}}
    ]


async def test_failed_entity_fetch_nulls_its_fields_per_entity_and_sibling_fetches_complete():
    result = await run({"products": PRODUCTS, "reviews": DOWN,
                        "inventory": {"data": {"_entities": [{"stock": 1}, {"stock": 2}]}}, "users": {"data": {"me": {"id": "u"}}}},
                       PLAN, QUERY)
    # `reviews` is non-null: each product becomes null; stock (a sibling fetch) was still fetched.
    assert result["data"] == {"topProducts": [None, None], "me": {"id": "u"}}
    assert [(e["path"], e["extensions"]) for e in result["errors"]] == [
        (["topProducts", 0, "reviews"], {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "reviews"}),
        (["topProducts", 1, "reviews"], {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "reviews"}),
    ]


async def test_nullable_entity_field_of_a_failed_fetch_is_null_with_the_subgraphs_own_code():
    down_503 = SubgraphResponse(503, {"data": None, "errors": [{"message": "maintenance", "extensions": {"code": "MAINTENANCE"}}]})
    result = await run({"products": PRODUCTS, "reviews": {"data": {"_entities": [{"reviews": []}, {"reviews": []}]}},
                        "inventory": down_503, "users": {"data": {"me": {"id": "u"}}}}, PLAN, QUERY)
    assert result["data"] == {
        "topProducts": [{"name": "A", "stock": None, "reviews": []}, {"name": "B", "stock": None, "reviews": []}],
        "me": {"id": "u"},
    }
    assert [(e["message"], e["path"], e["extensions"]["code"]) for e in result["errors"]] == [
        ("maintenance", ["topProducts", 0, "stock"], "MAINTENANCE"),
        ("maintenance", ["topProducts", 1, "stock"], "MAINTENANCE"),
    ]
