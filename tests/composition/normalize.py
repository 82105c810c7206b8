"""Semantic normalization of supergraph SDL: ordering and formatting aside.

`normalize(sdl)` returns plain data: per type its kind, description, implements/members, the
`join__*` directive applications of the type, of every field, enum value and union member (as
sets, graph enum values replaced by subgraph names, default arguments dropped) and the other
applied directives. `api_schema(sdl)` prints the API schema (no @inaccessible elements, no
join/link machinery) with graphql-core's lexicographic sort.
"""

from __future__ import annotations

from inspect import cleandoc
from typing import Any

from graphql import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    lexicographic_sort_schema,
    parse,
    print_ast,
    print_schema,
)

_SPEC_PREFIXES = ("join__", "link__")
_SPEC_DIRECTIVES = ("link", "tag", "inaccessible")
_DEFAULT_ARGS = {("join__type", "extension", "false"), ("join__type", "resolvable", "true"),
                 ("join__type", "isInterfaceObject", "false")}


def _is_spec(name: str) -> bool:
    return name.startswith(_SPEC_PREFIXES)


def _graph_names(doc: DocumentNode) -> dict[str, str]:
    for d in doc.definitions:
        if isinstance(d, EnumTypeDefinitionNode) and d.name.value == "join__Graph":
            out = {}
            for v in d.values or ():
                for a in v.directives or ():
                    if a.name.value == "join__graph":
                        args = {x.name.value: x.value for x in a.arguments}
                        out[v.name.value] = args["name"].value  # type: ignore[attr-defined]
            return out
    return {}


def _directive(d: ConstDirectiveNode, graphs: dict[str, str]) -> str:
    name = d.name.value
    args = []
    for a in sorted(d.arguments or (), key=lambda a: a.name.value):
        value = print_ast(a.value)
        if a.name.value in ("graph",) and value in graphs:
            value = graphs[value]
        elif a.name.value == "graphs":
            value = "[" + ", ".join(sorted(graphs.get(v, v) for v in value.strip("[]").split(", "))) + "]"
        if (name, a.name.value, value) in _DEFAULT_ARGS:
            continue
        if a.value.kind == "string_value":
            value = repr(a.value.value)  # type: ignore[attr-defined]
        args.append(f"{a.name.value}: {value}")
    return f"@{name}(" + ", ".join(args) + ")" if args else f"@{name}"


def _split(directives: Any, graphs: dict[str, str]) -> dict[str, list[str]]:
    join: list[str] = []
    other: list[str] = []
    for d in directives or ():
        (join if d.name.value.startswith("join__") else other).append(_directive(d, graphs))
    return {"join": sorted(join), "directives": sorted(other)}


def _desc(node: Any) -> str | None:
    return cleandoc(node.description.value) if getattr(node, "description", None) else None


def normalize(sdl: str) -> dict[str, Any]:
    """Plain-data form of a supergraph for equality checks (see module docstring)."""
    doc = parse(sdl)
    graphs = _graph_names(doc)
    out: dict[str, Any] = {"graphs": sorted(graphs.values()), "types": {}, "directives": {}, "schema": None}
    for d in doc.definitions:
        if isinstance(d, SchemaDefinitionNode):
            out["schema"] = {
                "roots": sorted(f"{o.operation.value}: {o.type.name.value}" for o in d.operation_types),
                "links": sorted(_directive(x, graphs) for x in d.directives or ()),
            }
        elif isinstance(d, DirectiveDefinitionNode):
            if d.name.value.startswith("join__"):
                continue
            out["directives"][d.name.value] = print_ast(d)
        elif isinstance(d, TypeDefinitionNode):
            name = d.name.value
            if _is_spec(name):
                continue
            entry: dict[str, Any] = {"kind": d.kind, "description": _desc(d), **_split(d.directives, graphs)}
            if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                entry["implements"] = sorted(i.name.value for i in d.interfaces or ())
            if isinstance(d, UnionTypeDefinitionNode):
                entry["members"] = sorted(m.name.value for m in d.types or ())
            if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode):
                fields = {}
                for f in d.fields or ():
                    fe: dict[str, Any] = {"type": print_ast(f.type), "description": _desc(f),
                                          **_split(f.directives, graphs)}
                    if getattr(f, "default_value", None) is not None:
                        fe["default"] = print_ast(f.default_value)  # type: ignore[attr-defined]
                    fe["args"] = {
                        a.name.value: {
                            "type": print_ast(a.type),
                            "default": print_ast(a.default_value) if a.default_value else None,
                            "description": _desc(a),
                            **_split(a.directives, graphs),
                        }
                        for a in getattr(f, "arguments", None) or ()
                    }
                    fields[f.name.value] = fe
                entry["fields"] = fields
            if isinstance(d, EnumTypeDefinitionNode):
                entry["values"] = {
                    v.name.value: {"description": _desc(v), **_split(v.directives, graphs)} for v in d.values or ()
                }
            out["types"][name] = entry
    return out


def _inaccessible(node: Any) -> bool:
    return any(d.name.value == "inaccessible" for d in getattr(node, "directives", None) or ())


def api_schema(sdl: str) -> str:
    """The API schema: @inaccessible elements and federation machinery removed, sorted and printed."""
    doc = parse(sdl)
    defs = []
    for d in doc.definitions:
        if isinstance(d, SchemaDefinitionNode):
            defs.append(d.__class__(operation_types=d.operation_types, directives=()))
            continue
        if isinstance(d, DirectiveDefinitionNode):
            if d.name.value.startswith("join__") or d.name.value in _SPEC_DIRECTIVES:
                continue
            defs.append(d)
            continue
        if not isinstance(d, TypeDefinitionNode) or _is_spec(d.name.value) or _inaccessible(d):
            continue
        kw: dict[str, Any] = {"name": d.name, "description": d.description, "directives": _keep(d.directives)}
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode):
            fields = []
            for f in d.fields or ():
                if _inaccessible(f):
                    continue
                fkw = {k: getattr(f, k) for k in f.keys if k != "loc"}
                fkw["directives"] = _keep(f.directives)
                if "arguments" in fkw:
                    fkw["arguments"] = tuple(
                        a.__class__(**{**{k: getattr(a, k) for k in a.keys if k != "loc"},
                                       "directives": _keep(a.directives)})
                        for a in f.arguments or () if not _inaccessible(a))  # type: ignore[attr-defined]
                fields.append(f.__class__(**fkw))
            kw["fields"] = tuple(fields)
            if not isinstance(d, InputObjectTypeDefinitionNode):
                kw["interfaces"] = d.interfaces
        elif isinstance(d, UnionTypeDefinitionNode):
            kw["types"] = d.types
        elif isinstance(d, EnumTypeDefinitionNode):
            kw["values"] = tuple(
                v.__class__(name=v.name, description=v.description, directives=_keep(v.directives))
                for v in d.values or () if not _inaccessible(v))
        defs.append(d.__class__(**kw))
    schema = build_ast_schema(DocumentNode(definitions=tuple(defs)), assume_valid_sdl=True)
    return print_schema(lexicographic_sort_schema(schema))


def _keep(directives: Any) -> tuple:
    return tuple(d for d in directives or () if d.name.value in ("deprecated", "specifiedBy"))
