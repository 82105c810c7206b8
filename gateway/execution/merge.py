"""Deep merge of subgraph results into the response data tree, in place."""

from __future__ import annotations

from typing import Any


def deep_merge(target: dict[str, Any], source: dict[str, Any] | None) -> None:
    """Merge `source` into `target`: objects key by key, lists of equal length element by element.

    Anything else (including a received `__typename`) overwrites. A None source is a no-op, so an
    entity a subgraph answered with `null` keeps what earlier fetches found.
    """
    if source:
        merge_entities([target], _FIRST, [source])


_FIRST = [0]


def merge_entities(entities: list[dict[str, Any]], rep_index: list[int], results: list[Any]) -> None:
    """`deep_merge(entity, results[i])` for each entity whose representation index i is not -1 and
    whose result is an object: the same merges in the same order, in one call instead of one each."""
    for target, idx in zip(entities, rep_index, strict=True):
        if idx < 0:
            continue
        source = results[idx]
        if type(source) is not dict:
            continue
        # The top level is walked without a stack: most merges (an entity's fields) end there.
        stack: list[tuple[dict[str, Any], dict[str, Any]]] | None = None
        for key, value in source.items():
            if key in target:
                existing = target[key]
                if type(value) is dict:
                    if type(existing) is dict:
                        if stack is None:
                            stack = [(existing, value)]
                        else:
                            stack.append((existing, value))
                        continue
                elif type(value) is list and type(existing) is list and len(value) == len(existing):
                    if stack is None:
                        stack = []
                    _merge_list(existing, value, stack)
                    continue
            target[key] = value
        if stack is not None:
            _drain(stack)


def _drain(stack: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Merge the (target, source) pairs on `stack` and everything below them, last pushed first."""
    # Explicit stack instead of recursion: results can be deep and this runs per fetch.
    while stack:
        tgt, src = stack.pop()
        for key, value in src.items():
            if key in tgt:
                existing = tgt[key]
                if type(value) is dict and type(existing) is dict:
                    stack.append((existing, value))
                    continue
                if type(value) is list and type(existing) is list and len(value) == len(existing):
                    _merge_list(existing, value, stack)
                    continue
            tgt[key] = value


def _merge_list(existing: list[Any], value: list[Any], stack: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Merge two lists of equal length element by element; object pairs are pushed on `stack`."""
    for i, item in enumerate(value):
        old = existing[i]
        if type(item) is dict and type(old) is dict:
            stack.append((old, item))
        elif type(item) is list and type(old) is list and len(item) == len(old):
            # Nested lists: merge through a one-key wrapper to reuse the same walk.
            stack.append(({"_": old}, {"_": item}))
        else:
            existing[i] = item
