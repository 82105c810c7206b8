"""The API schema of a supergraph: what clients see (no @inaccessible elements, no join/link machinery).

One builder for `fedgate check` and for serving (the supergraph loader), reading directive names through
`links.read_links`, so an `@inaccessible` imported under another name (`@federation__inaccessible`, an
`import: [{name, as}]` alias) hides exactly what the plain one does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
)
from graphql.language import TypeNode

from .links import LinkedNames, read_links, schema_directives

# Specs whose machinery (directives, types) never reaches the API schema.
MACHINERY_SPECS = frozenset(
    {
        "link",
        "core",
        "join",
        "inaccessible",
        "tag",
        "authenticated",
        "requiresScopes",
        "policy",
        "context",
        "cost",
        "listSize",
        "cacheTag",
        "connect",
    }
)


def _has_directive(node: Any, name: str) -> bool:
    return any(d.name.value == name for d in (getattr(node, "directives", None) or ()))


def named_type(t: TypeNode) -> str:
    """The named type under list and non-null wrappers."""
    while not isinstance(t, NamedTypeNode):
        t = t.type  # type: ignore[attr-defined]
    return t.name.value


def is_machinery(names: LinkedNames, name: str) -> bool:
    """True when a directive or type `name` belongs to a spec the API schema leaves out."""
    return names.owned_by(name, MACHINERY_SPECS)


def _strip(node: Any, names: LinkedNames, inaccessible: str | None) -> Any:
    """A copy of a definition node without machinery directives (and without inaccessible parts unless
    `inaccessible` is None)."""
    kwargs: dict[str, Any] = {}
    if getattr(node, "directives", None) is not None:
        kwargs["directives"] = tuple(d for d in node.directives if not is_machinery(names, d.name.value))
    for attr in ("fields", "values", "arguments"):
        children = getattr(node, attr, None)
        if children is None:
            continue
        kept = []
        for child in children:
            if inaccessible is not None and _has_directive(child, inaccessible):
                continue
            kept.append(_strip(child, names, inaccessible))
        kwargs[attr] = tuple(kept)
    return dataclasses.replace(node, **kwargs) if kwargs else node


def _drop_removed_refs(node: Any, removed: set[str]) -> Any:
    """Remove fields, arguments, members and interfaces that point at removed (inaccessible) types."""
    if not removed:
        return node
    if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        fields = []
        for f in node.fields or ():
            if named_type(f.type) in removed:
                continue
            if f.arguments and any(named_type(a.type) in removed for a in f.arguments):
                f = dataclasses.replace(f, arguments=tuple(a for a in f.arguments if named_type(a.type) not in removed))
            fields.append(f)
        if not fields:
            return None
        interfaces = tuple(i for i in node.interfaces or () if i.name.value not in removed)
        return dataclasses.replace(node, interfaces=interfaces, fields=tuple(fields))
    if isinstance(node, UnionTypeDefinitionNode):
        members = tuple(t for t in node.types or () if t.name.value not in removed)
        return dataclasses.replace(node, types=members) if members else None
    if isinstance(node, InputObjectTypeDefinitionNode):
        return dataclasses.replace(node, fields=tuple(f for f in node.fields or () if named_type(f.type) not in removed))
    return node


def schema_document(doc: DocumentNode, names: LinkedNames, *, api: bool) -> DocumentNode:
    """The supergraph document without join/link machinery; with `api`, also without what is
    `@inaccessible` (and what only reaches it): the API schema's definitions."""
    inaccessible = names.directive("inaccessible") if api else None
    removed: set[str] = set()
    if inaccessible is not None:
        for definition in doc.definitions:
            if isinstance(definition, TypeDefinitionNode) and _has_directive(definition, inaccessible):
                removed.add(definition.name.value)
    defs: list[Any] = []
    for definition in doc.definitions:
        if isinstance(definition, DirectiveDefinitionNode):
            if not is_machinery(names, definition.name.value):
                defs.append(definition)
        elif isinstance(definition, SchemaDefinitionNode):
            defs.append(dataclasses.replace(definition, directives=()))
        elif isinstance(definition, TypeDefinitionNode):
            name = definition.name.value
            if is_machinery(names, name) or name in removed:
                continue
            stripped = _drop_removed_refs(_strip(definition, names, inaccessible), removed)
            if stripped is not None:
                defs.append(stripped)
        else:
            defs.append(definition)
    return DocumentNode(definitions=tuple(defs))


def api_schema_of(doc: DocumentNode, names: LinkedNames | None = None) -> GraphQLSchema:
    """The API schema of a parsed supergraph document (`names`: its links, read when not given)."""
    names = names if names is not None else read_links(schema_directives(doc))
    return build_ast_schema(schema_document(doc, names, api=True), assume_valid_sdl=True)


def api_schema(supergraph_sdl: str) -> GraphQLSchema:
    """Build the API schema of a supergraph SDL."""
    return api_schema_of(parse(supergraph_sdl, no_location=True))
