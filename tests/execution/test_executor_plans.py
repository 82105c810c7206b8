"""Hand-built plans executed against real subgraphs: what the client sees."""

from __future__ import annotations

import orjson
import pytest
from plan_helpers import entity_fetch, fields, run_plan

from gateway.planning.nodes import (
    LIST,
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    QueryPlan,
    SequenceNode,
)

TOP = ("topProducts", LIST)


def shipping_and_reviews_plan() -> QueryPlan:
    return QueryPlan(
        SequenceNode(
            (
                FetchNode("products", "{topProducts{__typename upc name price weight}}"),
                ParallelNode(
                    (
                        FlattenNode(
                            TOP,
                            entity_fetch("inventory", "Product", fields("upc", "price", "weight"), "shippingEstimate"),
                        ),
                        FlattenNode(
                            TOP,
                            entity_fetch(
                                "reviews", "Product", fields("upc"), "reviews{body author{username}}"
                            ),
                        ),
                    )
                ),
            )
        )
    )


@pytest.mark.parametrize("client", ["httpx", "native"])
async def test_entity_jumps_requires_and_error_paths(supergraph, shop, client):
    query = "{ topProducts { name shippingEstimate reviews { body author { username } } } }"
    result = await run_plan(supergraph, shipping_and_reviews_plan(), query, client=client)
    assert result["data"] == {
        "topProducts": [
            {
                "name": "Table",
                "shippingEstimate": 89,
                "reviews": [
                    {"body": "Love it!", "author": {"username": "ada"}},
                    {"body": "Too expensive.", "author": {"username": "grace"}},
                ],
            },
            {
                "name": "Couch",
                "shippingEstimate": 1299,
                "reviews": [
                    {"body": "Could be better.", "author": {"username": "ada"}},
                    {"body": None, "author": {"username": "grace"}},
                ],
            },
            {"name": "Chair", "shippingEstimate": 2, "reviews": []},
        ]
    }
    [error] = result["errors"]
    assert error["message"] == "review body unavailable"
    assert error["path"] == ["topProducts", 1, "reviews", 1, "body"]
    assert error["extensions"]["serviceName"] == "reviews"
    # The inventory fetch got key + requires, __typename first, and only that.
    [inv] = shop["inventory"].requests
    assert inv["variables"] == {
        "representations": [
            {"__typename": "Product", "upc": "1", "price": 899, "weight": 100},
            {"__typename": "Product", "upc": "2", "price": 1299, "weight": 1000},
            {"__typename": "Product", "upc": "3", "price": 54, "weight": 50},
        ]
    }


async def test_planner_fields_are_dropped_and_aliases_kept(supergraph):
    plan = QueryPlan(FetchNode("products", "{p:product(upc:\"1\"){__typename upc n:name}}"))
    result = await run_plan(supergraph, plan, '{ p: product(upc: "1") { n: name t: __typename } }')
    assert result == {"data": {"p": {"n": "Table", "t": "Product"}}}


async def test_enum_value_outside_api_schema_becomes_null_with_error(supergraph):
    plan = QueryPlan(FetchNode("products", "{topProducts{name category}}"))
    result = await run_plan(supergraph, plan, "{ topProducts { name category } }")
    assert result["data"]["topProducts"][2] == {"name": "Chair", "category": None}
    [error] = result["errors"]
    assert error["path"] == ["topProducts", 2, "category"]


async def test_representations_are_deduplicated(supergraph, shop):
    # Two aliases of the same product: one representation, merged into both places.
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("products", '{a:product(upc:"1"){__typename upc} b:product(upc:"1"){__typename upc}}'),
                ParallelNode(
                    (
                        FlattenNode(("a",), entity_fetch("inventory", "Product", fields("upc"), "inStock")),
                        FlattenNode(("b",), entity_fetch("inventory", "Product", fields("upc"), "inStock")),
                    )
                ),
            )
        )
    )
    result = await run_plan(supergraph, plan, '{ a: product(upc: "1") { inStock } b: product(upc: "1") { upc inStock } }')
    assert result == {"data": {"a": {"inStock": True}, "b": {"upc": "1", "inStock": True}}}
    assert [len(r["variables"]["representations"]) for r in shop["inventory"].requests] == [1, 1]


async def test_condition_uses_variable_defaults(supergraph, shop):
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("products", "{topProducts(first:1){__typename upc name}}"),
                ConditionNode(
                    "withStock",
                    FlattenNode(TOP, entity_fetch("inventory", "Product", fields("upc"), "inStock")),
                    None,
                ),
            )
        )
    )
    query = "query ($withStock: Boolean = false) { topProducts(first: 1) { name inStock @include(if: $withStock) } }"
    result = await run_plan(supergraph, plan, query)
    assert result == {"data": {"topProducts": [{"name": "Table"}]}}
    assert shop["inventory"].requests == []
    result = await run_plan(supergraph, plan, query, {"withStock": True})
    assert result == {"data": {"topProducts": [{"name": "Table", "inStock": True}]}}


async def test_variables_sent_are_only_the_fetch_usages(supergraph, shop):
    plan = QueryPlan(
        ParallelNode(
            (
                FetchNode("products", "query($n:Int){topProducts(first:$n){name}}", variable_usages=("n",)),
                FetchNode("products", "query($u:String!){product(upc:$u){name}}", variable_usages=("u",)),
            )
        )
    )
    query = "query ($n: Int, $u: String!) { topProducts(first: $n) { name } product(upc: $u) { name } }"
    result = await run_plan(supergraph, plan, query, {"n": 1, "u": "2"})
    assert result == {"data": {"topProducts": [{"name": "Table"}], "product": {"name": "Couch"}}}
    sent = sorted(orjson.dumps(r["variables"]) for r in shop["products"].requests)
    assert sent == [b'{"n":1}', b'{"u":"2"}']


@pytest.mark.parametrize("client", ["httpx", "native"])
async def test_unreachable_subgraph_is_an_error_for_that_fetch(supergraph, client):
    supergraph.subgraph_urls["inventory"] = "http://127.0.0.1:9/graphql"
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("products", "{topProducts(first:1){__typename upc name}}"),
                FlattenNode(TOP, entity_fetch("inventory", "Product", fields("upc"), "inStock")),
            )
        )
    )
    result = await run_plan(supergraph, plan, "{ topProducts(first: 1) { name inStock } }", client=client)
    assert result["data"] == {"topProducts": [{"name": "Table", "inStock": None}]}
    [error] = result["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_REQUEST_FAILED"
    assert error["extensions"]["serviceName"] == "inventory"


async def test_introspection_needs_no_plan(supergraph):
    result = await run_plan(supergraph, None, '{ __typename t: __type(name: "Product") { name kind } }')
    assert result == {"data": {"__typename": "Query", "t": {"name": "Product", "kind": "OBJECT"}}}


async def test_introspection_answer_is_reused_and_stays_intact(supergraph):
    from graphql import parse

    from gateway.execution import Executor, coerce_variables
    from gateway.server.preparation import prepare_operation

    query = 'query ($n: String!) { __type(name: $n) { name fields { name } } }'
    prepared = prepare_operation(supergraph, parse(query), None, lambda *_: None)  # type: ignore[arg-type,return-value]
    executor = Executor(supergraph, None)  # type: ignore[arg-type]
    answers = []
    for name in ("User", "User", "Review"):
        variables = {"n": name}
        coerced = coerce_variables(supergraph.api_schema, prepared.operation, variables)
        answers.append(await executor.execute(prepared, coerced, variables))
    assert answers[0] == answers[1] == {"data": {"__type": {"name": "User", "fields": [{"name": "id"}, {"name": "username"}]}}}
    assert answers[2]["data"]["__type"]["name"] == "Review"
    assert len(prepared.introspection_results) == 2
