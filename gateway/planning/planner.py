"""Entry point of the planning layer: a validated operation to a QueryPlan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from ..supergraph import Supergraph
from .assemble import Assembler
from .builder import Builder
from .errors import PlanningError
from .nodes import FetchNode, PlanNode, QueryPlan, SequenceNode, SubscriptionNode
from .normalize import Normalizer

Planner = Callable[[Any, DocumentNode, "str | None"], QueryPlan]
"""`build_query_plan(supergraph, document, operation_name)`, or a cache in front of it."""


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(ops) != 1:
            raise PlanningError("OPERATION_NOT_FOUND", "operationName is required when a document has several operations")
        return ops[0]
    for op in ops:
        if op.name and op.name.value == operation_name:
            return op
    raise PlanningError("OPERATION_NOT_FOUND", f'Unknown operation named "{operation_name}".')


def build_query_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
) -> QueryPlan:
    """Plan a parsed, validated operation; raise PlanningError when no plan can serve it.

    Plans do not depend on variable values: `@skip`/`@include` on a variable become Condition nodes,
    decided per request by the executor (or by `conditions.resolve_conditions`)."""
    op = select_operation(document, operation_name)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    kind = op.operation.value
    schema = supergraph.api_schema
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}[kind]
    if root is None:
        raise PlanningError("QUERY_PLANNING_FAILED", f"the schema has no {kind} type")
    sel = Normalizer(supergraph, fragments).selection(root.name, op.selection_set)
    builder = Builder(supergraph, kind)
    try:
        builder.plan_root(root.name, sel)
    except RecursionError as exc:
        raise PlanningError("QUERY_PLANNING_FAILED", "the operation is too deep to plan") from exc
    node = Assembler(builder, op).build(builder.groups)
    if kind == "subscription":
        node = _subscription(node)
    return QueryPlan(node)


def _subscription(node: PlanNode | None) -> SubscriptionNode:
    """Split a subscription's plan into the fetch that opens the stream and what runs per event.

    The root field lives in exactly one subgraph (composition forbids shareable subscription
    fields), so the plan starts with that subgraph's fetch; everything after it depends on it.
    """
    first, rest = node, None
    if isinstance(node, SequenceNode):
        first = node.nodes[0]
        tail = node.nodes[1:]
        rest = tail[0] if len(tail) == 1 and isinstance(tail[0], SequenceNode) else SequenceNode(tail)
    if not isinstance(first, FetchNode) or first.operation_kind != "subscription":
        raise PlanningError("QUERY_PLANNING_FAILED", "a subscription must start with one fetch of its root field")
    return SubscriptionNode(first, rest)
