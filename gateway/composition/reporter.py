"""Apollo's mismatch message format (composition-js/src/merging/reporter.ts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_CUTOFF = 100


def join_strings(items: Sequence[str], sep: str = ", ", first_sep: str | None = None, last_sep: str = " and ") -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return items[0] + (first_sep or last_sep) + items[1]
    return items[0] + (first_sep or sep) + sep.join(items[1:-1]) + last_sep + items[-1]


def human_list(names: Sequence[str], prefix: str = "", prefix_plural: str = "", cutoff: int = DEFAULT_CUTOFF) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f"{prefix} {names[0]}" if prefix else names[0]
    last_idx = 0
    length = 0
    for n in names:
        length += len(n)
        if length <= cutoff:
            last_idx += 1
    shown = list(names[: max(1, last_idx)])
    actual_prefix = prefix_plural + " " if prefix_plural else (prefix + " " if prefix else "")
    if len(shown) == len(names):
        return actual_prefix + join_strings(shown)
    return actual_prefix + join_strings(shown, ", ", None, ", ") + ", ..."


def subgraph_names(names: Sequence[str]) -> str:
    """`subgraph "a"` / `subgraphs "a", "b" and "c"`."""
    return human_list([f'"{n}"' for n in names], "subgraph", "subgraphs")


def mismatch_distribution(
    names: Sequence[str],
    sources: dict[int, Any],
    accessor: Callable[[Any], str | None],
    supergraph_value: str,
    super_printer: Callable[[str, str | None], str],
    other_printer: Callable[[str, str], str],
    ignore: Callable[[Any], bool] | None = None,
    include_missing: bool = False,
) -> list[str]:
    """Group subgraphs by the accessor's value; the group equal to the supergraph's comes first."""
    dist: dict[str, list[str]] = {}

    def process(name: str, elt: Any) -> None:
        if ignore is not None and ignore(elt):
            return
        v = accessor(elt)
        dist.setdefault(v or "", []).append(name)

    if include_missing:
        for i, name in enumerate(names):
            elt = sources.get(i)
            if elt is None:
                dist.setdefault("", []).append(name)
            else:
                process(name, elt)
    else:
        for i, elt in sources.items():
            if elt is not None:
                process(names[i], elt)
    like = dist.get(supergraph_value)
    out = [super_printer(supergraph_value, subgraph_names(like) if like else None)]
    for v, ns in dist.items():
        if v == supergraph_value:
            continue
        out.append(other_printer(v, subgraph_names(ns)))
    return out


def mismatch_error_message(
    message: str,
    names: Sequence[str],
    sources: dict[int, Any],
    accessor: Callable[[Any], str | None],
    supergraph_value: str,
) -> str:
    """`reportMismatchError`: `<message><value> in subgraph "a" but <value> in subgraphs "b" and "c"`."""
    dist = mismatch_distribution(
        names, sources, accessor, supergraph_value,
        lambda v, s: f"{v} in {s}", lambda v, s: f"{v} in {s}", ignore=lambda e: e is None)
    return message + join_strings(dist, " and ", " but ")


def mismatch_specific_message(message: str, dist: list[str]) -> str:
    return message + dist[0] + join_strings(dist[1:], " and ")
