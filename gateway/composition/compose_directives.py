"""`@composeDirective`: custom directives of `@link`-ed features kept in the supergraph
(composition-js/src/composeDirectiveManager.ts)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CompositionError
from .links import FEDERATION_IDENTITY, LINK_IDENTITY, Link
from .subgraph import SDirectiveDef, Subgraph

_RESERVED_IDENTITIES = (FEDERATION_IDENTITY, LINK_IDENTITY, "https://specs.apollo.dev/join",
                        "https://specs.apollo.dev/tag", "https://specs.apollo.dev/inaccessible")


@dataclass(slots=True)
class ComposedDirective:
    """One composed directive: its name in the supergraph, feature and the definition to print."""

    name: str
    original: str
    link: Link  # the highest minor version seen
    definition: SDirectiveDef


def collect_composed_directives(subs: list[Subgraph]) -> tuple[dict[str, ComposedDirective], list[CompositionError]]:
    """Validate every `@composeDirective` and pick, per directive, the latest feature version's definition."""
    out: dict[str, ComposedDirective] = {}
    errors: list[CompositionError] = []
    for s in subs:
        for d in s.schema_directives:
            if d.name != "composeDirective":
                continue
            raw = d.str_arg("name") or ""
            if not raw.startswith("@"):
                errors.append(CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Argument to @composeDirective "{raw}" in subgraph "{s.name}" must have a leading "@"', [s.name]))
                continue
            name = raw[1:]
            if name in s.links.directives or name in ("tag", "inaccessible"):
                errors.append(CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Composing federation directive "{raw}" in subgraph "{s.name}" is not supported', [s.name]))
                continue
            definition = s.directive_defs.get(name)
            if definition is None:
                errors.append(CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Could not find matching directive definition for argument to @composeDirective "{raw}" in '
                    f'subgraph "{s.name}".', [s.name]))
                continue
            link = None
            original = name
            for lk in s.links.links:
                for orig, as_ in lk.imports:
                    if as_ == raw:
                        link, original = lk, orig.lstrip("@")
                if link is None and name.startswith(f"{lk.name_in_schema}__"):
                    link, original = lk, name[len(lk.name_in_schema) + 2:]
            if link is None or link.identity in _RESERVED_IDENTITIES:
                errors.append(CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Directive "{raw}" in subgraph "{s.name}" cannot be composed because it is not a member of a core '
                    "feature", [s.name]))
                continue
            prev = out.get(name)
            if prev is None:
                out[name] = ComposedDirective(name, original, link, definition)
                continue
            if prev.link.identity != link.identity or prev.link.version[0] != link.version[0]:
                errors.append(CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Composed directive "{raw}" is not linked by the same core feature (or major version) in every '
                    "subgraph", [s.name]))
                continue
            if link.version > prev.link.version:
                out[name] = ComposedDirective(name, original, link, definition)
    return out, errors
