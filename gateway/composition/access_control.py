"""Composed-by-default directives with argument mergers: @requiresScopes, @policy (DNF conjunction),
@authenticated, @cost and @listSize (internals-js/src/argumentCompositionStrategies.ts)."""

from __future__ import annotations

import json
from typing import Any

from graphql import BooleanValueNode, IntValueNode, ListValueNode, StringValueNode, ValueNode

from .model import MDirective

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
