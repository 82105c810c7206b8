"""Fetch groups to plan nodes: operations printed once, groups ordered by their dependencies."""

from __future__ import annotations

from graphql import OperationDefinitionNode, VariableDefinitionNode, print_ast

from .builder import Builder
from .errors import PlanningError
from .groups import FetchGroup, alias_conflicts, outsel_to_requires, used_variables
from .nodes import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    SequenceNode,
)


def _drop_empty(groups: list[FetchGroup]) -> list[FetchGroup]:
    """Remove groups that ended up selecting nothing, rewiring their dependants to their parents."""
    by_id = {g.id: g for g in groups}
    empty = {g.id for g in groups if g.out.is_empty()}
    if not empty:
        return groups

    def resolve(dep: int, seen: set[int]) -> set[int]:
        if dep not in empty:
            return {dep}
        if dep in seen:
            return set()
        seen.add(dep)
        out: set[int] = set()
        for d in by_id[dep].deps:
            out |= resolve(d, seen)
        return out

    kept = [g for g in groups if g.id not in empty]
    for g in kept:
        new: set[int] = set()
        for d in g.deps:
            new |= resolve(d, set())
        new.discard(g.id)
        g.deps = new
    return kept


def _var_defs(op: OperationDefinitionNode) -> dict[str, VariableDefinitionNode]:
    return {v.variable.name.value: v for v in op.variable_definitions or ()}


class Assembler:
    def __init__(self, builder: Builder, op: OperationDefinitionNode) -> None:
        self.builder = builder
        self.op = op
        self.var_defs = _var_defs(op)
        self.op_name = op.name.value if op.name else None
        self.counter = 0
        self.fetch_nodes: dict[int, PlanNode] = {}
        self.alias_counter = [len(builder._internal_aliases)]

    def fetch(self, g: FetchGroup) -> PlanNode:
        alias_conflicts(g.out, (), g.output_rewrites, self.alias_counter)
        variables: list[str] = []
        used_variables(g.out, variables)
        defs = []
        if g.is_entity:
            defs.append("$representations:[_Any!]!")
        contextual = {r.variable: r.type for r in g.context_rewrites}
        for v in variables:
            if v in contextual:
                defs.append(f"${v}:{contextual[v]}")
                continue
            d = self.var_defs.get(v)
            if d is None:
                raise PlanningError("QUERY_PLANNING_FAILED", f"variable ${v} is not defined by the operation")
            text = f"${v}:{print_ast(d.type)}"
            if d.default_value is not None:
                text += "=" + print_ast(d.default_value)
            defs.append(text)
        name = None
        if self.op_name:
            name = f"{self.op_name}__{g.subgraph}__{self.counter}"
        self.counter += 1
        head = g.operation_kind
        if name:
            head += " " + name
        if defs:
            head += "(" + " ".join(defs) + ")"
        body = g.out.print(compact=True)
        if g.is_entity:
            body = "{_entities(representations:$representations)" + body + "}"
        operation = head + body if (defs or name or head != "query") else body
        node: PlanNode = FetchNode(
            service_name=g.subgraph,
            operation=operation,
            operation_kind=g.operation_kind,
            variable_usages=tuple(v for v in variables if v not in contextual),
            requires=outsel_to_requires(g.inputs) if g.is_entity else None,
            input_rewrites=tuple(g.input_rewrites),
            output_rewrites=tuple(g.output_rewrites),
            operation_name=name,
            display=g.out.print(),
            id=g.id,
            context_rewrites=tuple(g.context_rewrites),
        )
        if g.is_entity:
            node = FlattenNode(g.printed_path(), node)
        for var, keep in reversed(g.conds):
            node = ConditionNode(var, node, None) if keep else ConditionNode(var, None, node)
        return node

    def build(self, groups: list[FetchGroup]) -> PlanNode | None:
        groups = _drop_empty(groups)
        if not groups:
            return None
        ids = {g.id for g in groups}
        for g in groups:
            g.deps &= ids
        order = _topological(groups)
        children: dict[int, list[FetchGroup]] = {g.id: [] for g in groups}
        for g in order:
            if len(g.deps) == 1:
                children[next(iter(g.deps))].append(g)
        top: dict[int, int] = {}
        stage: dict[int, int] = {}
        tops: list[FetchGroup] = []
        for g in order:
            if len(g.deps) == 1:
                top[g.id] = top[next(iter(g.deps))]
                continue
            top[g.id] = g.id
            stage[g.id] = 1 + max((stage[top[d]] for d in g.deps), default=-1)
            tops.append(g)
        if self.builder.operation_kind == "mutation":
            # Root mutation fields run one after another, each with its follow-up fetches.
            roots = [g for g in tops if not g.deps]
            roots.sort(key=lambda g: g.id)
            later = [g for g in tops if g.deps]
            seq: list[PlanNode] = [self.subtree(r, children) for r in roots]
            seq.extend(self.subtree(g, children) for g in sorted(later, key=lambda g: stage[g.id]))
            return _seq(seq)
        n_stages = max(stage.values()) + 1
        stages: list[PlanNode] = []
        for i in range(n_stages):
            members = [self.subtree(g, children) for g in tops if stage[g.id] == i]
            if members:
                stages.append(_par(members))
        return _seq(stages)

    def subtree(self, g: FetchGroup, children: dict[int, list[FetchGroup]]) -> PlanNode:
        node = self.fetch(g)
        kids = [self.subtree(c, children) for c in children[g.id]]
        if not kids:
            return node
        return _seq([node, _par(kids)])


def _seq(nodes: list[PlanNode]) -> PlanNode:
    flat: list[PlanNode] = []
    for n in nodes:
        flat.extend(n.nodes if isinstance(n, SequenceNode) else (n,))
    return flat[0] if len(flat) == 1 else SequenceNode(tuple(flat))


def _par(nodes: list[PlanNode]) -> PlanNode:
    flat: list[PlanNode] = []
    for n in nodes:
        flat.extend(n.nodes if isinstance(n, ParallelNode) else (n,))
    return flat[0] if len(flat) == 1 else ParallelNode(tuple(flat))


def _topological(groups: list[FetchGroup]) -> list[FetchGroup]:
    by_id = {g.id: g for g in groups}
    state: dict[int, int] = {}
    out: list[FetchGroup] = []

    def visit(g: FetchGroup) -> None:
        s = state.get(g.id)
        if s == 2:
            return
        if s == 1:
            raise PlanningError("QUERY_PLANNING_FAILED", "fetch dependencies form a cycle")
        state[g.id] = 1
        for d in sorted(g.deps):
            visit(by_id[d])
        state[g.id] = 2
        out.append(g)

    for g in sorted(groups, key=lambda g: g.id):
        visit(g)
    return out
