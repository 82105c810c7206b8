"""A tiny GraphQL executor for the bench subgraphs: enough for the queries gateways send them.

Each distinct query text is parsed once (graphql-core's parser) and kept; a request is a walk of
the cached selections over plain dicts. Objects carry their type in "__typename"; a field is the
dict's value unless the type has a resolver for it. Responses are memoized by request body,
since the data never changes (BENCH_SUBGRAPH_MEMO=0 turns that off).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from graphql import parse
from graphql.language import (
    BooleanValueNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
)

Resolver = Callable[[Any, dict[str, Any]], Any]
# type name -> field name -> resolver(parent, args)
Resolvers = dict[str, dict[str, Resolver]]

_MEMO_SIZE = 4096
_MEMO = os.environ.get("BENCH_SUBGRAPH_MEMO", "1") != "0"


class _Selection:
    __slots__ = ("key", "name", "args", "children", "on")

    def __init__(self, key: str, name: str, args: list[tuple[str, Any]], children: list[_Selection] | None, on: str | None):
        self.key, self.name, self.args, self.children, self.on = key, name, args, children, on


class _Var:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _value(node: Any) -> Any:
    if isinstance(node, VariableNode):
        return _Var(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, StringValueNode | EnumValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    raise ValueError(f"unsupported value {node.kind}")


def _resolve_var(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, _Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [_resolve_var(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_var(v, variables) for k, v in value.items()}
    return value


def _compile(selection_set: Any, fragments: dict[str, FragmentDefinitionNode], on: str | None) -> list[_Selection]:
    """Flatten a selection set into a list; fragment type conditions stay as `on`."""
    out: list[_Selection] = []
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            children = _compile(sel.selection_set, fragments, None) if sel.selection_set else None
            args = [(a.name.value, _value(a.value)) for a in (sel.arguments or ())]
            key = sel.alias.value if sel.alias else sel.name.value
            out.append(_Selection(key, sel.name.value, args, children, on))
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else on
            out.extend(_compile(sel.selection_set, fragments, cond))
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments[sel.name.value]
            out.extend(_compile(frag.selection_set, fragments, frag.type_condition.name.value))
    return out


class Subgraph:
    """One subgraph: root objects and per-type resolvers over in-memory data."""

    def __init__(self, name: str, resolvers: Resolvers) -> None:
        self.name = name
        self.resolvers = resolvers
        self._docs: dict[str, tuple[str, list[_Selection]]] = {}
        self._memo: OrderedDict[bytes, bytes] = OrderedDict()

    def _document(self, query: str, operation_name: str | None) -> tuple[str, list[_Selection]]:
        key = f"{operation_name or ''}\0{query}"
        cached = self._docs.get(key)
        if cached is None:
            doc = parse(query)
            fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
            ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
            op = next(o for o in ops if operation_name is None or (o.name and o.name.value == operation_name))
            root = {"query": "Query", "mutation": "Mutation"}[op.operation.value]
            cached = (root, _compile(op.selection_set, fragments, root))
            self._docs[key] = cached
        return cached

    def _object(self, obj: dict[str, Any], sels: list[_Selection], variables: dict[str, Any]) -> dict[str, Any]:
        typename = obj["__typename"]
        fields = self.resolvers.get(typename, {})
        out: dict[str, Any] = {}
        for s in sels:
            if s.on is not None and s.on != typename:
                continue
            if s.name == "__typename":
                out[s.key] = typename
                continue
            resolver = fields.get(s.name)
            if resolver is not None:
                args = {k: _resolve_var(v, variables) for k, v in s.args}
                value = resolver(obj, args)
            else:
                value = obj.get(s.name)
            out[s.key] = self._complete(value, s.children, variables) if s.children else value
        return out

    def _complete(self, value: Any, sels: list[_Selection], variables: dict[str, Any]) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [None if v is None else self._object(v, sels, variables) for v in value]
        return self._object(value, sels, variables)

    def execute(self, body: bytes) -> bytes:
        """Answer one GraphQL-over-HTTP POST body with a JSON response body."""
        if _MEMO:
            hit = self._memo.get(body)
            if hit is not None:
                return hit
        try:
            request = orjson.loads(body)
            root, sels = self._document(request["query"], request.get("operationName"))
            variables = request.get("variables") or {}
            response = orjson.dumps({"data": self._object({"__typename": root}, sels, variables)})
        except Exception as exc:  # a bench subgraph reports, it does not crash
            return orjson.dumps({"data": None, "errors": [{"message": f"{type(exc).__name__}: {exc}"}]})
        if _MEMO:
            self._memo[body] = response
            if len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return response
