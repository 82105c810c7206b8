"""Query plan nodes: plain frozen data that the executor walks and the printer shows in Apollo's text form.

The shapes follow Apollo's `QueryPlan.ts` so that plans read the same as Apollo Router's and can be
compared in golden tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

LIST = "@"
"""Flatten path segment meaning "each element of the list here"."""


@dataclass(frozen=True, slots=True)
class TypeCondition:
    """Flatten path segment that keeps only objects whose `__typename` satisfies one of `types`."""

    types: tuple[str, ...]

    def __str__(self) -> str:
        return "|[" + "|".join(self.types) + "]"


PathSegment = str | TypeCondition
FlattenPath = tuple[PathSegment, ...]


# --- requires selections: what the executor projects out of each entity to build a representation ---


@dataclass(frozen=True, slots=True)
class RequiresField:
    """Copies a value into the representation under key `name`.

    The value is read from the entity's key `alias` when set (an internal alias the planner gave the
    field in an earlier fetch), else from key `name`. Printed as Apollo does: `name: alias`.
    """

    name: str
    alias: str | None = None
    selections: tuple[RequiresSelection, ...] | None = None

    @property
    def read_key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class RequiresInlineFragment:
    """Applies when the object's `__typename` satisfies `type_condition` (None: always)."""

    type_condition: str | None
    selections: tuple[RequiresSelection, ...]


RequiresSelection = RequiresField | RequiresInlineFragment


# --- rewrites ---


@dataclass(frozen=True, slots=True)
class ValueSetter:
    """Sets the value at `path` (segments: keys, or `... on T` type guards) to `set_value_to`."""

    path: tuple[str, ...]
    set_value_to: object


@dataclass(frozen=True, slots=True)
class KeyRenamer:
    """Renames the key at `path` to `rename_key_to` (undoes an internal alias)."""

    path: tuple[str, ...]
    rename_key_to: str


Rewrite = ValueSetter | KeyRenamer


@dataclass(frozen=True, slots=True)
class ContextRewrite:
    """Where an entity fetch finds a `@fromContext` value: `up` object levels above each entity (Apollo
    prints `..` once per level), then `path` into that ancestor (its key, or the key of an internal alias);
    the value is sent as variable `$variable` (Apollo's `contextRewrites` KeyRenamer)."""

    variable: str
    type: str
    up: int
    path: tuple[str, ...]


# --- plan nodes ---


@dataclass(frozen=True, slots=True)
class FetchNode:
    """One request to one subgraph.

    `requires` is None for a root fetch; for an entity fetch it selects the representation of each entity
    found at the enclosing Flatten path, and `operation` takes `$representations`.
    """

    service_name: str
    operation: str
    operation_kind: str = "query"
    variable_usages: tuple[str, ...] = ()
    requires: tuple[RequiresSelection, ...] | None = None
    input_rewrites: tuple[Rewrite, ...] = ()
    output_rewrites: tuple[Rewrite, ...] = ()
    operation_name: str | None = None
    # The output selection as printed inside the plan (the `_entities` wrapper flattened away).
    display: str = ""
    id: int = 0
    # `@fromContext` arguments: entities with different values are fetched in separate requests.
    context_rewrites: tuple[ContextRewrite, ...] = ()


@dataclass(frozen=True, slots=True)
class FlattenNode:
    path: FlattenPath
    node: PlanNode


@dataclass(frozen=True, slots=True)
class SequenceNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ParallelNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ConditionNode:
    """Runs `if_clause` when boolean variable `condition` is true, else `else_clause`."""

    condition: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None


@dataclass(frozen=True, slots=True)
class SubscriptionNode:
    """A subscription: `primary` opens the stream in the subgraph owning the root field; `rest` runs
    once per event on that event's data (entity fetches to the other subgraphs), as Apollo's node."""

    primary: FetchNode
    rest: PlanNode | None


PlanNode = FetchNode | FlattenNode | SequenceNode | ParallelNode | ConditionNode | SubscriptionNode


@dataclass(frozen=True, slots=True)
class QueryPlan:
    node: PlanNode | None

    def __str__(self) -> str:
        return print_plan(self)


def iter_fetches(node: PlanNode | None) -> Iterator[FetchNode]:
    """Every FetchNode under `node`, in plan order."""
    if node is None:
        return
    if isinstance(node, FetchNode):
        yield node
    elif isinstance(node, FlattenNode):
        yield from iter_fetches(node.node)
    elif isinstance(node, (SequenceNode, ParallelNode)):
        for child in node.nodes:
            yield from iter_fetches(child)
    elif isinstance(node, ConditionNode):
        yield from iter_fetches(node.if_clause)
        yield from iter_fetches(node.else_clause)
    elif isinstance(node, SubscriptionNode):
        yield node.primary
        yield from iter_fetches(node.rest)


# --- printer (Apollo's queryPlanSerializer) ---


def format_path(path: FlattenPath) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, TypeCondition):
            out += str(seg)
        else:
            out += ("." if out else "") + seg
    return out


def _print_requires(sels: tuple[RequiresSelection, ...], indent: str) -> list[str]:
    lines: list[str] = []
    for sel in sels:
        if isinstance(sel, RequiresField):
            head = f"{sel.name}: {sel.alias}" if sel.alias else sel.name
            if sel.selections:
                lines.append(f"{indent}{head} {{")
                lines.extend(_print_requires(sel.selections, indent + "  "))
                lines.append(f"{indent}}}")
            else:
                lines.append(f"{indent}{head}")
        else:
            head = f"... on {sel.type_condition} {{" if sel.type_condition else "... {"
            lines.append(f"{indent}{head}")
            lines.extend(_print_requires(sel.selections, indent + "  "))
            lines.append(f"{indent}}}")
    return lines


def _indent_block(text: str, indent: str) -> list[str]:
    return [indent + line for line in text.splitlines()]


def _print_node(node: PlanNode, indent: str) -> list[str]:
    inner = indent + "  "
    if isinstance(node, FetchNode):
        lines = [f'{indent}Fetch(service: "{node.service_name}") {{']
        if node.requires is not None:
            lines.append(f"{inner}{{")
            lines.extend(_print_requires(node.requires, inner + "  "))
            lines.append(f"{inner}}} =>")
        lines.extend(_indent_block(node.display, inner))
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, FlattenNode):
        lines = [f'{indent}Flatten(path: "{format_path(node.path)}") {{']
        lines.extend(_print_node(node.node, inner))
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, (SequenceNode, ParallelNode)):
        name = "Sequence" if isinstance(node, SequenceNode) else "Parallel"
        lines = [f"{indent}{name} {{"]
        for child in node.nodes:
            lines.extend(_print_node(child, inner))
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, ConditionNode):
        if node.if_clause is not None and node.else_clause is None:
            lines = [f"{indent}Include(if: ${node.condition}) {{"]
            lines.extend(_print_node(node.if_clause, inner))
        elif node.if_clause is None and node.else_clause is not None:
            lines = [f"{indent}Skip(if: ${node.condition}) {{"]
            lines.extend(_print_node(node.else_clause, inner))
        else:
            lines = [f"{indent}Condition(if: ${node.condition}) {{", f"{inner}Then {{"]
            if node.if_clause is not None:
                lines.extend(_print_node(node.if_clause, inner + "  "))
            lines.extend([f"{inner}}}", f"{inner}Else {{"])
            if node.else_clause is not None:
                lines.extend(_print_node(node.else_clause, inner + "  "))
            lines.append(f"{inner}}}")
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, SubscriptionNode):
        # Apollo's serializer closes the blocks inside Primary and Rest without a trailing comma.
        lines = [f"{indent}Subscription {{", f"{inner}Primary: {{"]
        lines.extend(_unterminated(_print_node(node.primary, inner + "  ")))
        lines.append(f"{inner}}},")
        if node.rest is not None:
            lines.append(f"{inner}Rest: {{")
            lines.extend(_unterminated(_print_node(node.rest, inner + "  ")))
            lines.append(f"{inner}}}")
        lines.append(f"{indent}}},")
        return lines
    raise TypeError(f"unknown plan node {node!r}")


def _unterminated(lines: list[str]) -> list[str]:
    if lines and lines[-1].endswith("},"):
        lines[-1] = lines[-1][:-1]
    return lines


def print_plan(plan: QueryPlan) -> str:
    """The plan in Apollo's text form (`QueryPlan { Sequence { Fetch(service: "a") {...}, ... } }`)."""
    if plan.node is None:
        return "QueryPlan {\n}"
    lines = ["QueryPlan {"]
    lines.extend(_print_node(plan.node, "  "))
    lines.append("}")
    return "\n".join(lines)
