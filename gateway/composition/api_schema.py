"""The API schema of a supergraph: what clients see (no @inaccessible elements, no join/link machinery)."""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
)

_SPEC_DIRECTIVES = ("link", "tag", "inaccessible")
_KEPT_DIRECTIVES = ("deprecated", "specifiedBy", "oneOf")


def _inaccessible(node: Any) -> bool:
    return any(d.name.value == "inaccessible" for d in getattr(node, "directives", None) or ())


def _keep(directives: Any) -> tuple:
    return tuple(d for d in directives or () if d.name.value in _KEPT_DIRECTIVES)


def _copy(node: Any, **changes: Any) -> Any:
    kw = {k: getattr(node, k) for k in node.keys if k != "loc"}
    kw.update(changes)
    kw["loc"] = node.loc
    return node.__class__(**kw)


def api_document(supergraph_sdl: str) -> DocumentNode:
    """The supergraph document reduced to the API schema's definitions (locations kept)."""
    doc = parse(supergraph_sdl)
    defs: list[Any] = []
    for d in doc.definitions:
        if isinstance(d, SchemaDefinitionNode):
            defs.append(_copy(d, directives=()))
        elif isinstance(d, DirectiveDefinitionNode):
            if not d.name.value.startswith("join__") and d.name.value not in _SPEC_DIRECTIVES:
                defs.append(d)
        elif isinstance(d, TypeDefinitionNode):
            name = d.name.value
            if name.startswith(("join__", "link__")) or _inaccessible(d):
                continue
            changes: dict[str, Any] = {"directives": _keep(d.directives)}
            if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode):
                fields = []
                for f in d.fields or ():
                    if _inaccessible(f):
                        continue
                    fc: dict[str, Any] = {"directives": _keep(f.directives)}
                    if hasattr(f, "arguments"):
                        fc["arguments"] = tuple(_copy(a, directives=_keep(a.directives))
                                                for a in f.arguments or () if not _inaccessible(a))
                    fields.append(_copy(f, **fc))
                changes["fields"] = tuple(fields)
            elif isinstance(d, EnumTypeDefinitionNode):
                changes["values"] = tuple(_copy(v, directives=_keep(v.directives))
                                          for v in d.values or () if not _inaccessible(v))
            elif isinstance(d, UnionTypeDefinitionNode):
                changes["types"] = d.types
            defs.append(_copy(d, **changes))
    return DocumentNode(definitions=tuple(defs))


def api_schema(supergraph_sdl: str) -> GraphQLSchema:
    """Build the API schema of a supergraph SDL."""
    return build_ast_schema(api_document(supergraph_sdl), assume_valid_sdl=True)
