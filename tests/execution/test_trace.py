"""The per-fetch trace the explorer draws: one entry per fetch node in plan order, with what happened."""

from __future__ import annotations

from typing import Any

import orjson
from graphql import build_schema, parse
from plan_helpers import entity_fetch, fields
from shop import FakeSupergraph

from gateway.execution import Executor, FetchTrace, coerce_variables
from gateway.planning.nodes import (
    LIST,
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    QueryPlan,
    SequenceNode,
    iter_fetches,
)
from gateway.server.preparation import prepare_operation
from gateway.server.query_plan_json import plan_to_json
from gateway.transport import FetchRequest, SubgraphResponse, TransportError

SCHEMA = build_schema(
    """
    type Query { topProducts: [Product] }
    type Product { upc: String! name: String reviews: [Review!] stock: Int }
    type Review { body: String }
    """
)
PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("products", "{topProducts{__typename upc name}}"),
            ParallelNode(
                (
                    FlattenNode(("topProducts", LIST), entity_fetch("reviews", "Product", fields("upc"), "reviews{body}")),
                    FlattenNode(("topProducts", LIST), entity_fetch("inventory", "Product", fields("upc"), "stock")),
                    ConditionNode(
                        "extra",
                        FlattenNode(("topProducts", LIST), entity_fetch("extra", "Product", fields("upc"), "name")),
                        None,
                    ),
                )
            ),
        )
    )
)
QUERY = "query($extra: Boolean! = false) { topProducts { name reviews { body } stock } }"


class Scripted:
    async def fetch(self, fetch: FetchRequest) -> SubgraphResponse:
        subgraph_name, body = fetch.subgraph, fetch.body
        reps = orjson.loads(body).get("variables", {}).get("representations", [])
        if subgraph_name == "products":
            items = [{"__typename": "Product", "upc": str(i), "name": f"P{i}"} for i in range(3)]
            return SubgraphResponse(200, {"data": {"topProducts": items}})
        if subgraph_name == "reviews":
            return SubgraphResponse(200, {"data": {"_entities": [{"reviews": []} for _ in reps]}, "errors": [{"message": "x"}]})
        raise TransportError("inventory is down", "SUBGRAPH_UNAVAILABLE")


async def test_trace_records_each_fetch_in_plan_order():
    supergraph = FakeSupergraph(SCHEMA, {n: f"http://{n}" for n in ("products", "reviews", "inventory", "extra")})
    prepared = prepare_operation(supergraph, parse(QUERY), None, lambda *_: PLAN)
    trace = FetchTrace()
    variables = coerce_variables(supergraph.api_schema, prepared.operation, None)
    result = await Executor(supergraph, Scripted()).execute(prepared, variables, trace=trace)
    assert result["data"]["topProducts"][0]["name"] == "P0"
    out = trace.to_json(PLAN.node)
    fetches = out["fetches"]
    assert [(f["index"], f["serviceName"], f["status"]) for f in fetches] == [
        (0, "products", "ok"),
        (1, "reviews", "error"),
        (2, "inventory", "failed"),
        (3, "extra", "skipped"),
    ]
    assert fetches[1]["representations"] == 3 and fetches[1]["errors"] == 1
    assert fetches[2]["failure"] == "SUBGRAPH_UNAVAILABLE"
    assert "startMs" not in fetches[3]
    assert fetches[1]["startMs"] >= fetches[0]["startMs"] + fetches[0]["durationMs"] - 0.01
    assert out["totalMs"] >= fetches[0]["durationMs"]


def test_fetch_order_is_the_json_plan_order():
    """The page numbers fetches by walking the JSON plan depth first: the same order as the trace."""

    def walk(node: Any, out: list[str]) -> list[str]:
        if node is None:
            return out
        kind = node["kind"]
        if kind == "Fetch":
            out.append(node["serviceName"])
        elif kind == "Flatten":
            walk(node["node"], out)
        elif kind in ("Sequence", "Parallel"):
            for child in node["nodes"]:
                walk(child, out)
        elif kind == "Condition":
            walk(node["ifClause"], out)
            walk(node["elseClause"], out)
        return out

    assert walk(plan_to_json(PLAN)["node"], []) == [f.service_name for f in iter_fetches(PLAN.node)]
