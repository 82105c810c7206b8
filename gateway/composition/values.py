"""How composition prints GraphQL values and directives (Apollo's `valueToString`), a leaf module: merge,
validation, field sets and links all print values, and none of them may be imported by this one."""

from __future__ import annotations

from typing import Any

from graphql import ListValueNode, ObjectValueNode, StringValueNode, ValueNode, print_ast


def gql_string(s: str) -> str:
    return print_ast(StringValueNode(value=s))


def print_value(v: ValueNode) -> str:
    """Print a value the way Apollo's valueToString does: `{a: 1}`, `[1, 2]`, plain (non-block) strings."""
    if isinstance(v, StringValueNode):
        return gql_string(v.value)
    if isinstance(v, ListValueNode):
        return "[" + ", ".join(print_value(x) for x in v.values) + "]"
    if isinstance(v, ObjectValueNode):
        return "{" + ", ".join(f"{f.name.value}: {print_value(f.value)}" for f in v.fields) + "}"
    return print_ast(v)


def print_directive(node: Any) -> str:
    """`@name(arg: value, ...)` with Apollo's value printing."""
    args = ", ".join(f"{a.name.value}: {print_value(a.value)}" for a in node.arguments or ())
    return f"@{node.name.value}({args})" if args else f"@{node.name.value}"


def value_key(v: ValueNode | None) -> str | None:
    """Structural identity of a value (order of object fields ignored)."""
    if v is None:
        return None
    if isinstance(v, ObjectValueNode):
        return "{" + ",".join(sorted(f"{f.name.value}:{value_key(f.value)}" for f in v.fields)) + "}"
    if isinstance(v, ListValueNode):
        return "[" + ",".join(str(value_key(x)) for x in v.values) + "]"
    return print_ast(v)
