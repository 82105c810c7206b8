"""A plan as it runs for given variables: `@skip`/`@include` conditions decided (`fedgate plan --variables`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .nodes import ConditionNode, FlattenNode, ParallelNode, PlanNode, QueryPlan, SequenceNode


def _resolve(node: PlanNode | None, variables: Mapping[str, Any]) -> PlanNode | None:
    if node is None:
        return None
    if isinstance(node, ConditionNode):
        # As the executor decides it: the coerced boolean variable, absent counting as false.
        branch = node.if_clause if variables.get(node.condition) else node.else_clause
        return _resolve(branch, variables)
    if isinstance(node, FlattenNode):
        inner = _resolve(node.node, variables)
        return None if inner is None else FlattenNode(node.path, inner)
    if isinstance(node, SequenceNode | ParallelNode):
        children = [c for c in (_resolve(child, variables) for child in node.nodes) if c is not None]
        if not children:
            return None
        if len(children) == 1:
            return children[0]
        return type(node)(tuple(children))
    return node


def resolve_conditions(plan: QueryPlan, variables: Mapping[str, Any]) -> QueryPlan:
    """The plan with each Condition node replaced by the branch `variables` choose (dropped when none)."""
    return QueryPlan(_resolve(plan.node, variables))
