"""A QueryPlan as Apollo's JSON object form (`extensions.apolloQueryPlan.object`)."""

from __future__ import annotations

from typing import Any

from gateway.planning.nodes import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    KeyRenamer,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RequiresField,
    RequiresSelection,
    Rewrite,
    SequenceNode,
    SubscriptionNode,
    TypeCondition,
    ValueSetter,
)


def _requires(sels: tuple[RequiresSelection, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for sel in sels:
        if isinstance(sel, RequiresField):
            item: dict[str, Any] = {"kind": "Field", "name": sel.name}
            if sel.alias:
                item["alias"] = sel.alias
            if sel.selections:
                item["selections"] = _requires(sel.selections)
            out.append(item)
        else:
            out.append(
                {"kind": "InlineFragment", "typeCondition": sel.type_condition, "selections": _requires(sel.selections)}
            )
    return out


def _rewrites(rewrites: tuple[Rewrite, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rw in rewrites:
        if isinstance(rw, ValueSetter):
            out.append({"kind": "ValueSetter", "path": list(rw.path), "setValueTo": rw.set_value_to})
        elif isinstance(rw, KeyRenamer):
            out.append({"kind": "KeyRenamer", "path": list(rw.path), "renameKeyTo": rw.rename_key_to})
    return out


def _node(node: PlanNode | None) -> dict[str, Any] | None:
    if node is None:
        return None
    if isinstance(node, FetchNode):
        out: dict[str, Any] = {
            "kind": "Fetch",
            "serviceName": node.service_name,
            "variableUsages": list(node.variable_usages),
            "operation": node.operation,
            "operationKind": node.operation_kind,
        }
        if node.operation_name:
            out["operationName"] = node.operation_name
        if node.requires is not None:
            out["requires"] = _requires(node.requires)
        if node.input_rewrites:
            out["inputRewrites"] = _rewrites(node.input_rewrites)
        if node.output_rewrites:
            out["outputRewrites"] = _rewrites(node.output_rewrites)
        return out
    if isinstance(node, FlattenNode):
        path = [str(seg) if isinstance(seg, TypeCondition) else seg for seg in node.path]
        return {"kind": "Flatten", "path": path, "node": _node(node.node)}
    if isinstance(node, SequenceNode):
        return {"kind": "Sequence", "nodes": [_node(n) for n in node.nodes]}
    if isinstance(node, ParallelNode):
        return {"kind": "Parallel", "nodes": [_node(n) for n in node.nodes]}
    if isinstance(node, ConditionNode):
        return {
            "kind": "Condition",
            "condition": node.condition,
            "ifClause": _node(node.if_clause),
            "elseClause": _node(node.else_clause),
        }
    if isinstance(node, SubscriptionNode):
        return {"kind": "Subscription", "primary": _node(node.primary), "rest": _node(node.rest)}
    raise TypeError(f"unknown plan node {node!r}")


def plan_to_json(plan: QueryPlan) -> dict[str, Any]:
    """`{"kind": "QueryPlan", "node": ...}` as Apollo Router exposes it."""
    return {"kind": "QueryPlan", "node": _node(plan.node)}
