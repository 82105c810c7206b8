"""The composition pipeline: parse -> links -> build -> validate -> fed1 upgrade -> merge -> print."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLSyntaxError, NamedTypeNode, NameNode, parse

from .errors import CompositionError, CompositionResult, SourceLocation
from .links import resolve_links, schema_directives
from .merge import Merger
from .printer import print_supergraph
from .subgraph import OBJECT, ROOT_NAMES, SType, Subgraph, build_subgraph, rename_type


@dataclass(slots=True)
class SubgraphInput:
    """One subgraph to compose: its name, routing URL and SDL (text or parsed)."""

    name: str
    url: str
    sdl: str | DocumentNode


def load_subgraph(inp: SubgraphInput) -> tuple[Subgraph | None, list[CompositionError]]:
    """Parse one subgraph and resolve its links; errors carry the `[name]` prefix."""
    name = inp.name
    if name == "_":
        return None, [CompositionError("INVALID_SUBGRAPH_NAME",
                                       "[_] Invalid name _ for a subgraph: this name is reserved", [name])]
    if isinstance(inp.sdl, DocumentNode):
        doc = inp.sdl
    else:
        try:
            doc = parse(inp.sdl)
        except GraphQLSyntaxError as e:
            return None, [CompositionError("INVALID_GRAPHQL", f"[{name}] {e.message}", [name])]
    links = resolve_links(name, schema_directives(doc))
    if links.errors:
        return None, links.errors
    sub = build_subgraph(name, inp.url, doc, links)
    return sub, []


def complete_subgraph(sub: Subgraph) -> list[CompositionError]:
    """Rename root types to their default names and make sure `Query` exists."""
    errors: list[CompositionError] = []
    renames: dict[str, str] = {}
    for op, tname in sub.roots.items():
        if tname not in sub.types:
            errors.append(CompositionError(
                "INVALID_GRAPHQL", f"[{sub.name}] Cannot set schema {op} root to unknown type {tname}", [sub.name]))
    if errors:
        return errors
    for op, tname in sub.roots.items():
        default = ROOT_NAMES[op]
        if tname == default:
            continue
        if default in sub.types:
            code = f"ROOT_{op.upper()}_USED"
            errors.append(CompositionError(
                code,
                f'[{sub.name}] The schema has a type named "{default}" but it is not set as the {op} root type '
                f'("{tname}" is instead): this is not supported by federation. If a root type does not use its default '
                "name, there should be no other type with that default name.", [sub.name]))
            continue
        renames[tname] = default
    for old, new in renames.items():
        t = sub.types.pop(old, None)
        if t is None:
            continue
        t.name = new
        sub.types[new] = t
        for f in t.fields.values():
            f.parent = new
        for op in list(sub.roots):
            if sub.roots[op] == old:
                sub.roots[op] = new
        for other in sub.types.values():
            for f in other.fields.values():
                f.type = rename_type(f.type, old, new)
                for a in f.args.values():
                    a.type = rename_type(a.type, old, new)
            other.members = [new if m == old else m for m in other.members]
    if "Query" not in sub.types:
        sub.types["Query"] = SType(kind=OBJECT, name="Query", has_definition=True)
    return errors


_COORDINATE = re.compile(r'"@?([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?:\([A-Za-z_][A-Za-z0-9_]*:\))?"')


def _node_location(sub: Subgraph, node: Any) -> SourceLocation | None:
    loc = getattr(node, "loc", None)
    if loc is None or loc.source is None:
        return None
    where = loc.source.get_location(loc.start)
    return SourceLocation(sub.name, where.line, where.column)


def attach_locations(errors: list[CompositionError], subs: list[Subgraph]) -> None:
    """Point each error at the first schema coordinate its message names, in each subgraph involved."""
    by_name = {s.name: s for s in subs}
    for e in errors:
        if e.locations:
            continue
        involved = [by_name[n] for n in e.subgraphs if n in by_name] or list(subs)
        locations: list[SourceLocation] = []
        for m in _COORDINATE.finditer(e.message):
            type_name, field_name = m.group(1), m.group(2)
            for sub in involved:
                t = sub.types.get(type_name)
                if t is None:
                    continue
                node = t.fields[field_name].node if field_name and field_name in t.fields else t.node
                loc = _node_location(sub, node)
                if loc is not None and loc not in locations:
                    locations.append(loc)
            if locations:
                break
        e.locations = tuple(locations)


def _failed(errors: list[CompositionError], subs: list[Subgraph], merger: Merger | None = None) -> CompositionResult:
    attach_locations(errors, subs)
    return CompositionResult(errors=errors, hints=merger.hints if merger is not None else [])


def join_version(subs: list[Subgraph]) -> tuple[int, int]:
    minor = max((s.links.version[1] for s in subs if s.fed2), default=0)
    if minor >= 8:
        return (0, 5)
    if minor == 7:
        return (0, 4)
    return (0, 3)


def compose(inputs: list[SubgraphInput], *, max_validation_subgraph_paths: int | None = None) -> CompositionResult:
    """Compose subgraphs into a supergraph SDL, or return Apollo-coded errors.

    `max_validation_subgraph_paths` is Apollo's `maxValidationSubgraphPaths` (default 1,000,000).
    """
    from .upgrade import upgrade_fed1
    from .validation import validate_subgraph

    names = [i.name for i in inputs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate subgraph names")
    ordered = sorted(inputs, key=lambda i: i.name)
    errors: list[CompositionError] = []
    subs: list[Subgraph] = []
    for inp in ordered:
        sub, errs = load_subgraph(inp)
        errors.extend(errs)
        if sub is not None:
            errors.extend(complete_subgraph(sub))
            subs.append(sub)
    if errors:
        return _failed(errors, subs)
    for sub in subs:
        errors.extend(validate_subgraph(sub, pre_upgrade=not sub.fed2))
    if errors:
        return _failed(errors, subs)
    if any(not s.fed2 for s in subs):
        errors.extend(upgrade_fed1(subs))
        if errors:
            return _failed(errors, subs)
        for sub in subs:
            if sub.links.upgraded:
                errors.extend(validate_subgraph(sub, pre_upgrade=False))
        if errors:
            return _failed(errors, subs)
    merger = Merger(subs)
    sg = merger.merge()
    if merger.errors:
        return _failed(merger.errors, subs, merger)
    sg.join_version = join_version(subs)
    from .satisfiability import validate_satisfiability

    sat_errors = validate_satisfiability(subs, sg, merger, max_validation_subgraph_paths)
    if sat_errors:
        return _failed(sat_errors, subs, merger)
    return CompositionResult(supergraph_sdl=print_supergraph(sg), hints=merger.hints)


__all__ = ["SubgraphInput", "compose", "NameNode", "NamedTypeNode"]
