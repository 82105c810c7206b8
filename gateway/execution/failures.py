"""Partial results for a fetch that failed for good: where its errors go.

A fetch that brought no data (subgraph unreachable, circuit open, not a GraphQL answer, or
`data: null`) leaves its fields null; its errors without a path are placed at the response path of
each field it would have filled, so clients see which fields are missing and why. The shaper then
sees an error at those paths and propagates nulls without adding "Cannot return null" errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse

from gateway.errors import SUBGRAPH_UNAVAILABLE

MAX_FAILURE_PATHS = 100
"""A failed fetch over many entities reports at most this many paths per error."""


@lru_cache(maxsize=4096)
def fetch_field_keys(operation: str) -> tuple[str, ...]:
    """Response keys a fetch fills: its root fields, or for an `_entities` fetch the entity fields."""
    try:
        doc = parse(operation, no_location=True)
    except Exception:  # noqa: BLE001 - planner output always parses; never fail error reporting
        return ()
    op = next((d for d in doc.definitions if isinstance(d, OperationDefinitionNode)), None)
    if op is None:
        return ()
    keys = _keys(op.selection_set)
    if keys == ["_entities"]:
        entities = next(s for s in op.selection_set.selections if isinstance(s, FieldNode))
        keys = _keys(entities.selection_set) if entities.selection_set else []
    return tuple(k for k in dict.fromkeys(keys) if k != "__typename")


def _keys(selection_set: SelectionSetNode) -> list[str]:
    out: list[str] = []
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            out.append(sel.alias.value if sel.alias else sel.name.value)
        elif isinstance(sel, InlineFragmentNode):
            out.extend(_keys(sel.selection_set))
    return out


def failure_paths(operation: str, parents: Sequence[Sequence[str | int]] = ((),)) -> list[list[str | int]]:
    """Response paths of the fields a failed fetch would have filled under each parent path."""
    keys = fetch_field_keys(operation)
    out: list[list[str | int]] = []
    for parent in parents:
        for key in keys:
            out.append([*parent, key])
            if len(out) >= MAX_FAILURE_PATHS:
                return out
    return out


def fetch_failed(data: Any, raw_errors: list[Any]) -> bool:
    """Did this fetch fail because its subgraph was unavailable? The hook for stale-if-error:
    an entity cache may answer from an expired entry instead when this is True."""
    if data is not None:
        return False
    return any(
        type(e) is dict and type(e.get("extensions")) is dict and e["extensions"].get("code") == SUBGRAPH_UNAVAILABLE
        for e in raw_errors
    )
