"""Composed-by-default directives with argument mergers: @requiresScopes, @policy (DNF conjunction),
@authenticated, @cost and @listSize (internals-js/src/argumentCompositionStrategies.ts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    SelectionSetNode,
    StringValueNode,
    TypeNode,
    ValueNode,
    parse_value,
    value_from_ast_untyped,
)

from .model import MDirective, MField, MType, Supergraph

# name -> (spec url, `for:` purpose or None)
SPEC_LINKS = {
    "authenticated": ("https://specs.apollo.dev/authenticated/v0.1", "SECURITY"),
    "requiresScopes": ("https://specs.apollo.dev/requiresScopes/v0.1", "SECURITY"),
    "policy": ("https://specs.apollo.dev/policy/v0.1", "SECURITY"),
}
DEFINITIONS = {
    "authenticated": "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "requiresScopes": "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | "
    "OBJECT | INTERFACE | SCALAR | ENUM",
    "policy": "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | "
    "SCALAR | ENUM",
    "cost": "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION "
    "| OBJECT | SCALAR",
    "listSize": "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], "
    "requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    "cost__listSize": "directive @cost__listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: "
    "[String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
}
SCALARS = {"requiresScopes": "requiresScopes__Scope", "policy": "policy__Policy"}
MERGED = ("authenticated", "requiresScopes", "policy", "cost", "listSize")
_LIST_SIZE_ARGS = ("assumedSize", "slicingArguments", "sizedFields", "requireOneSlicingArgument")


def _py(v: ValueNode | None) -> Any:
    if v is None:
        return None
    if isinstance(v, ListValueNode):
        return [_py(x) for x in v.values]
    if isinstance(v, StringValueNode):
        return v.value
    if isinstance(v, IntValueNode):
        return int(v.value)
    if isinstance(v, BooleanValueNode):
        return v.value
    return getattr(v, "value", None)


def _gql(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_gql(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def dnf_conjunction(values: list[list[list[str]]]) -> list[list[str]]:
    """AND of requirement sets in disjunctive normal form, minimized like Apollo's `dnfConjunction`."""
    if not values:
        return []
    normalized: list[list[list[str]]] = []
    seen: set[str] = set()
    for value in values:
        value = [sorted(inner) for inner in (value or [[]])]
        value.sort(key=json.dumps)
        key = json.dumps(value)
        if key not in seen:
            seen.add(key)
            normalized.append(value)
    result = normalized[0]
    for current in normalized[1:]:
        acc: list[list[str]] = []
        keys: set[str] = set()
        for a in result:
            for c in current:
                cand = sorted([*a, *[e for e in c if e not in a]])
                k = json.dumps(cand)
                if k not in keys:
                    keys.add(k)
                    acc.append(cand)
        acc.sort(key=len)
        minimal: list[list[str]] = []
        for cand in acc:
            if not any(set(r) <= set(cand) for r in minimal):
                minimal.append(cand)
        result = minimal
    return result


def merge_arguments(name: str, applications: list[dict[str, ValueNode]]) -> MDirective:
    """Merge distinct applications of a non-repeatable access-control/cost directive."""
    if name in ("requiresScopes", "policy"):
        arg = "scopes" if name == "requiresScopes" else "policies"
        return MDirective(name, [(arg, _gql(dnf_conjunction([_py(a.get(arg)) or [] for a in applications])))])
    if name == "cost":
        return MDirective(name, [("weight", _gql(max(_py(a.get("weight")) or 0 for a in applications)))])
    if name == "listSize":
        args: list[tuple[str, str]] = []
        for arg in _LIST_SIZE_ARGS:
            vals = [_py(a.get(arg)) for a in applications if a.get(arg) is not None]
            if not vals:
                continue
            if arg == "assumedSize":
                merged: Any = max(vals)
            elif arg == "requireOneSlicingArgument":
                merged = all(vals)
            else:
                merged = []
                for v in vals:
                    merged += [x for x in v if x not in merged]
            args.append((arg, _gql(merged)))
        return MDirective(name, args)
    raise KeyError(name)


# -- transitive requirements (merge.ts AuthValidator) ------------------------------------------------------


@dataclass(slots=True)
class _Requirements:
    authenticated: bool = False
    scopes: list[list[str]] | None = None
    policies: list[list[str]] | None = None

    def satisfies(self, other: _Requirements | None) -> bool:
        """Do these requirements imply `other` (Apollo's AuthRequirementsOnElement.satisfies)?"""
        if other is None:
            return True
        return ((self.authenticated or not other.authenticated)
                and _implies(self.scopes, other.scopes) and _implies(self.policies, other.policies))


def _implies(first: list[list[str]] | None, second: list[list[str]] | None) -> bool:
    a = first or [[]]
    b = second or [[]]
    return all(any(set(inner_b) <= set(inner_a) for inner_b in b) for inner_a in a)


class TransitiveAuth:
    """A field reading other data through `@requires` or `@fromContext` must carry the auth that data needs."""

    def __init__(self, sg: Supergraph) -> None:
        self.sg = sg
        self.names = {n: sg.directive_names.get(n, n) for n in ("authenticated", "requiresScopes", "policy")}
        self.graphs = {value: name for value, name, _ in sg.graphs}
        self.contexts: dict[str, list[str]] = {}
        for t in sg.types.values():
            for d in t.directives:
                if d.name == sg.directive_names.get("context", "context"):
                    name = _arg(d, "name")
                    if isinstance(name, str):
                        self.contexts.setdefault(name, []).append(t.name)

    def on(self, directives: list[MDirective]) -> _Requirements | None:
        req = _Requirements()
        found = False
        for d in directives:
            if d.name == self.names["authenticated"]:
                req.authenticated = found = True
            elif d.name == self.names["requiresScopes"] and req.scopes is None:
                req.scopes = _arg(d, "scopes") or []
                found = True
            elif d.name == self.names["policy"] and req.policies is None:
                req.policies = _arg(d, "policies") or []
                found = True
        return req if found else None

    def of_field(self, t: MType, f: MField) -> _Requirements:
        on_type, on_field = self.on(t.directives), self.on(f.directives)
        parts = [r for r in (on_type, on_field) if r is not None]
        req = _Requirements(authenticated=any(r.authenticated for r in parts))
        scopes = [r.scopes for r in parts if r.scopes is not None]
        policies = [r.policies for r in parts if r.policies is not None]
        if scopes:
            req.scopes = dnf_conjunction(scopes)
        if policies:
            req.policies = dnf_conjunction(policies)
        return req

    def check(self) -> list[tuple[str | None, str]]:
        """(subgraph, message) for every MISSING_TRANSITIVE_AUTH_REQUIREMENTS error."""
        out: list[tuple[str | None, str]] = []
        for t in self.sg.types.values():
            for f in t.fields.values():
                for j in f.join:
                    if j.name != "join__field":
                        continue
                    graph = self.graphs.get(dict(j.args).get("graph", ""))
                    requires = _arg(j, "requires")
                    if isinstance(requires, str):
                        msg = self.verify_selection(t, f, "@requires", t, requires)
                        if msg is not None:
                            out.append((graph, msg))
                    for ctx in _arg(j, "contextArguments") or []:
                        for target in self.contexts.get(ctx.get("context"), []):
                            msg = self.verify_context(t, f, ctx, self.sg.types[target])
                            if msg is not None:
                                out.append((graph, msg))
        return out

    def verify_context(self, t: MType, f: MField, ctx: dict[str, Any], target: MType) -> str | None:
        if not self.of_field(t, f).satisfies(self.on(target.directives)):
            return (f'Field "{f.coordinate}" does not specify necessary @authenticated, @requiresScopes and/or @policy '
                    f'auth requirements to access the transitive data in context {ctx.get("context")} from '
                    "@fromContext selection set.")
        return self.verify_selection(t, f, "@fromContext", target, ctx.get("selection") or "")

    def verify_selection(self, t: MType, f: MField, directive: str, parent: MType, fields: str) -> str | None:
        from .fieldsets import parse_field_set

        req = self.of_field(t, f)
        head = (f'Field "{f.coordinate}" does not specify necessary @authenticated, @requiresScopes and/or @policy '
                "auth requirements to access the transitive ")
        try:
            sel = parse_field_set(fields)
        except Exception:  # noqa: BLE001 - field sets were validated per subgraph
            return None

        def walk(parent: MType, ss: SelectionSetNode) -> str | None:
            for s in ss.selections:
                if isinstance(s, FieldNode):
                    sf = parent.fields.get(s.name.value)
                    if sf is None:
                        continue
                    ret = self.sg.types.get(_named(sf.type)) if sf.type is not None else None
                    if not req.satisfies(self.on(sf.directives)) or (
                            ret is not None and not req.satisfies(self.on(ret.directives))):
                        return f'{head}field "{sf.coordinate}" data from {directive} selection set.'
                    if s.selection_set is not None and ret is not None:
                        msg = walk(ret, s.selection_set)
                        if msg is not None:
                            return msg
                elif isinstance(s, InlineFragmentNode):
                    cond = self.sg.types.get(s.type_condition.name.value) if s.type_condition else None
                    if cond is not None and not req.satisfies(self.on(cond.directives)):
                        return (f'{head}data in inline fragment type condition "{cond.name}" from {directive} '
                                "selection set.")
                    msg = walk(cond or parent, s.selection_set)
                    if msg is not None:
                        return msg
            return None

        return walk(parent, sel)


def _arg(d: MDirective, name: str) -> Any:
    for k, v in d.args:
        if k == name:
            try:
                return value_from_ast_untyped(parse_value(v))
            except Exception:  # noqa: BLE001
                return None
    return None


def _named(t: TypeNode) -> str:
    while not isinstance(t, NamedTypeNode):
        t = t.type  # type: ignore[attr-defined]
    return t.name.value
