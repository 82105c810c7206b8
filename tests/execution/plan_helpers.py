"""Build plans by hand and run them through the real executor and real subgraphs."""

from __future__ import annotations

from typing import Any

from graphql import parse, validate

from gateway.config import TrafficShapingConfig
from gateway.execution import Executor, coerce_variables
from gateway.planning.nodes import (
    FetchNode,
    QueryPlan,
    RequiresField,
    RequiresInlineFragment,
    RequiresSelection,
)
from gateway.server.preparation import prepare_operation
from gateway.transport import NativeClient, SubgraphClient

ENTITIES = "query($representations:[_Any!]!){_entities(representations:$representations){%s}}"


def entity_fetch(service: str, type_name: str, key: tuple[RequiresSelection, ...], selection: str, **kw: Any) -> FetchNode:
    """An `_entities` fetch for `type_name` requiring `__typename` + `key`, selecting `selection`."""
    requires = (RequiresInlineFragment(type_name, (RequiresField("__typename"), *key)),)
    return FetchNode(service, ENTITIES % f"...on {type_name}{{{selection}}}", requires=requires, **kw)


def fields(*names: str) -> tuple[RequiresField, ...]:
    return tuple(RequiresField(n) for n in names)


def raw_transport(traffic: TrafficShapingConfig) -> SubgraphClient | NativeClient:
    """The bare HTTP client `traffic.client` names, without retries, breakers or dedup.

    Executor tests check what one failed fetch does to the response, not the resilience policy.
    """
    return NativeClient(traffic) if traffic.client == "native" else SubgraphClient(traffic)


async def run_plan(
    supergraph: Any,
    plan: QueryPlan | None,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    client: str = "httpx",
) -> dict[str, Any]:
    """Validate `query`, execute `plan` for it with a fresh SubgraphClient, return the response."""
    document = parse(query)
    errors = validate(supergraph.api_schema, document)
    assert not errors, errors
    calls: list[Any] = []

    def planner(sg: Any, doc: Any, name: Any) -> QueryPlan:
        calls.append(doc)
        assert plan is not None, "planner called for an operation that needs no plan"
        return plan

    prepared = prepare_operation(supergraph, document, operation_name, planner)
    coerced = coerce_variables(supergraph.api_schema, prepared.operation, variables)
    transport = raw_transport(TrafficShapingConfig(client=client))  # type: ignore[arg-type]
    try:
        return await Executor(supergraph, transport).execute(prepared, coerced, variables)
    finally:
        await transport.aclose()
