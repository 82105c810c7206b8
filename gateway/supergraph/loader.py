"""Load a supergraph SDL (Apollo's format, join spec v0.1 to v0.5) into a `Supergraph`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    ScalarTypeDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_ast,
    print_type,
    value_from_ast_untyped,
)

from gateway.composition.api_schema import is_machinery, named_type, schema_document
from gateway.composition.links import LinkedNames, read_links, schema_directives

from .errors import SupergraphError
from .model import ContextArgument, FieldMeta, JoinField, JoinType, TypeMeta, label_view
from .schema import Supergraph

_SUPPORTED_JOIN = {(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)}


@lru_cache(maxsize=4096)
def parse_field_set(fields: str) -> SelectionSetNode:
    """A `FieldSet` string (`"id sku { upc }"`) as a selection set."""
    op = parse("{" + fields + "}", no_location=True).definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    return op.selection_set


def _args(node: DirectiveNode) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arg in node.arguments or ():
        out[arg.name.value] = _value(arg)
    return out


def _value(arg: ArgumentNode) -> Any:
    v = arg.value
    if isinstance(v, (StringValueNode, EnumValueNode)):
        return v.value
    if isinstance(v, BooleanValueNode):
        return v.value
    if isinstance(v, ListValueNode):
        return [getattr(x, "value", None) for x in v.values]
    return getattr(v, "value", None)


def _read_links(doc: DocumentNode) -> LinkedNames:
    names = read_links(schema_directives(doc))
    join = names.version("join")
    if join is None:
        raise SupergraphError(
            "SUPERGRAPH_INVALID",
            "not a supergraph: the schema has no @link (or @core) to the join spec "
            "(https://specs.apollo.dev/join/v0.x)",
        )
    if join not in _SUPPORTED_JOIN:
        major, minor = join
        raise SupergraphError(
            "SUPERGRAPH_UNSUPPORTED",
            f"unsupported join spec version v{major}.{minor} (supported: v0.1 to v0.5)",
        )
    return names


def _has_directive(node: Any, name: str) -> bool:
    return any(d.name.value == name for d in (getattr(node, "directives", None) or ()))


def _build_schema(doc: DocumentNode, names: LinkedNames, api: bool) -> GraphQLSchema:
    return build_ast_schema(schema_document(doc, names, api=api), assume_valid_sdl=True)


def _kind(node: TypeDefinitionNode) -> str:
    if isinstance(node, ObjectTypeDefinitionNode):
        return "OBJECT"
    if isinstance(node, InterfaceTypeDefinitionNode):
        return "INTERFACE"
    if isinstance(node, UnionTypeDefinitionNode):
        return "UNION"
    if isinstance(node, EnumTypeDefinitionNode):
        return "ENUM"
    if isinstance(node, InputObjectTypeDefinitionNode):
        return "INPUT_OBJECT"
    if isinstance(node, ScalarTypeDefinitionNode):
        return "SCALAR"
    return "OTHER"


def _directives(node: Any, name: str) -> Iterable[dict[str, Any]]:
    for d in getattr(node, "directives", None) or ():
        if d.name.value == name:
            yield _args(d)


def load_supergraph(sdl: str) -> Supergraph:
    """Parse and check a supergraph SDL; raise SupergraphError with a clear message when it is unusable."""
    try:
        doc = parse(sdl, no_location=True)
    except GraphQLError as exc:
        raise SupergraphError("SUPERGRAPH_INVALID", f"supergraph SDL does not parse: {exc.message}") from exc
    names = _read_links(doc)
    join = names.version("join")
    assert join is not None

    # Subgraphs: join__Graph enum values.
    graph_enum = names.directive("join", "Graph")
    graph_dir = names.directive("join", "graph")
    graph_names: dict[str, str] = {}
    urls: dict[str, str] = {}
    for definition in doc.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == graph_enum:
            for value in definition.values or ():
                for args in _directives(value, graph_dir):
                    name = args.get("name")
                    if not isinstance(name, str):
                        raise SupergraphError(
                            "SUPERGRAPH_INVALID", f"{graph_enum}.{value.name.value} has no @{graph_dir}(name:)"
                        )
                    graph_names[value.name.value] = name
                    urls[name] = args.get("url") or ""
    if not graph_names:
        raise SupergraphError("SUPERGRAPH_INVALID", f"the supergraph declares no subgraphs (enum {graph_enum})")

    try:
        full_schema = _build_schema(doc, names, api=False)
        api_schema = _build_schema(doc, names, api=True)
    except (GraphQLError, TypeError) as exc:
        raise SupergraphError("SUPERGRAPH_INVALID", f"supergraph schema is invalid: {exc}") from exc
    from graphql import validate_schema

    problems = validate_schema(api_schema)
    if problems:
        raise SupergraphError(
            "SUPERGRAPH_INVALID", "supergraph API schema is invalid: " + "; ".join(p.message for p in problems[:5])
        )

    def graph_of(args: dict[str, Any], where: str) -> str:
        g = args.get("graph")
        if g not in graph_names:
            raise SupergraphError("SUPERGRAPH_INVALID", f"{where} names unknown subgraph {g!r}")
        return graph_names[g]

    inacc = names.directive("inaccessible")
    d_type = names.directive("join", "type")
    d_field = names.directive("join", "field")
    d_owner = names.directive("join", "owner")
    d_context = names.linked_directive("context")
    d_impl = names.directive("join", "implements")
    d_member = names.directive("join", "unionMember")
    d_enum = names.directive("join", "enumValue")
    all_graphs = frozenset(graph_names.values())
    subgraph_by_name = set(all_graphs)

    types: dict[str, TypeMeta] = {}
    for definition in doc.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        tname = definition.name.value
        if is_machinery(names, tname):
            continue
        meta = TypeMeta(name=tname, kind=_kind(definition), inaccessible=_has_directive(definition, inacc))
        owner: str | None = None
        for args in _directives(definition, d_owner):
            owner = graph_of(args, f"@{d_owner} on {tname}")
        for args in _directives(definition, d_type):
            g = graph_of(args, f"@{d_type} on {tname}")
            key = args.get("key")
            jt = JoinType(
                graph=g,
                key=key,
                key_selection=_field_set(key, tname) if key else None,
                resolvable=args.get("resolvable", True) is not False,
                extension=bool(args.get("extension", False)),
                is_interface_object=bool(args.get("isInterfaceObject", False)),
            )
            meta.join_types.append(jt)
        graphs = frozenset(jt.graph for jt in meta.join_types) or all_graphs
        meta.graphs = graphs
        meta.interface_object_in = frozenset(jt.graph for jt in meta.join_types if jt.is_interface_object)
        if d_context is not None:
            meta.contexts = frozenset(a["name"] for a in _directives(definition, d_context) if isinstance(a.get("name"), str))

        if isinstance(definition, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            impl: dict[str, set[str]] = {}
            has_impl_dir = False
            for args in _directives(definition, d_impl):
                has_impl_dir = True
                impl.setdefault(graph_of(args, f"@{d_impl} on {tname}"), set()).add(args["interface"])
            if not has_impl_dir and join < (0, 2):
                for g in graphs:
                    impl[g] = {i.name.value for i in definition.interfaces or ()}
            elif not has_impl_dir:
                for g in graphs:
                    impl.setdefault(g, set())
            meta.implements_in = {g: frozenset(v) for g, v in impl.items()}
            for fnode in definition.fields or ():
                fmeta = _field_meta(fnode, tname, names, d_field, graph_of, graphs, owner, subgraph_by_name)
                meta.fields[fmeta.name] = fmeta
            if owner is not None:
                # Federation 1: a key field lives on the owner, yet every subgraph keyed by it has it.
                for jt in meta.join_types:
                    for sel in jt.key_selection.selections if jt.key_selection else ():
                        kf = meta.fields.get(sel.name.value) if isinstance(sel, FieldNode) else None
                        if kf is not None:
                            kf.available_in = kf.available_in | {jt.graph}
                            kf.resolvable_in = kf.resolvable_in | {jt.graph}
        elif isinstance(definition, UnionTypeDefinitionNode):
            members: dict[str, set[str]] = {}
            has_member_dir = False
            for args in _directives(definition, d_member):
                has_member_dir = True
                members.setdefault(graph_of(args, f"@{d_member} on {tname}"), set()).add(args["member"])
            meta.union_members_in = {g: frozenset(v) for g, v in members.items()}
            if not has_member_dir:
                meta.union_members_in = {}  # filled below from member types' graphs
                for g in graphs:
                    meta.union_members_in[g] = frozenset(t.name.value for t in definition.types or ())
        elif isinstance(definition, EnumTypeDefinitionNode):
            values: dict[str, set[str]] = {}
            for vnode in definition.values or ():
                dirs = list(_directives(vnode, d_enum))
                for g in [graph_of(a, f"@{d_enum} on {tname}") for a in dirs] if dirs else graphs:
                    values.setdefault(g, set()).add(vnode.name.value)
            meta.enum_values_in = {g: frozenset(v) for g, v in values.items()}
        types[tname] = meta

    # Without @join__unionMember (join v0.1/v0.2), a member counts in a graph only if that graph knows it.
    for umeta in types.values():
        if umeta.kind == "UNION":
            for g, known in list(umeta.union_members_in.items()):
                umeta.union_members_in[g] = frozenset(m for m in known if m in types and g in types[m].graphs)

    digest = hashlib.sha256(sdl.encode()).hexdigest()
    labels = frozenset(
        rule[0] for t in types.values() for f in t.fields.values() for rule in f.label_rules.values()
    )
    return Supergraph(
        override_labels=labels,
        sdl=sdl,
        sdl_hash=digest,
        api_schema=api_schema,
        full_schema=full_schema,
        subgraph_urls=urls,
        types=types,
        join_version=join,
    )


def _field_set(fields: str, where: str) -> SelectionSetNode:
    try:
        return parse_field_set(fields)
    except GraphQLError as exc:
        raise SupergraphError("SUPERGRAPH_INVALID", f"bad field set {fields!r} on {where}: {exc.message}") from exc


def _context_arguments(fnode: Any, d_field: str, graph: str, graph_of: Any, tname: str, fname: str) -> tuple[ContextArgument, ...]:
    """The `contextArguments` of `fnode`'s `@join__field(graph: graph)` (a list of input objects)."""
    out: list[ContextArgument] = []
    for d in fnode.directives or ():
        if d.name.value != d_field:
            continue
        args = {a.name.value: a.value for a in d.arguments or ()}
        if "graph" not in args or graph_of(_args(d), f"@{d_field} on {tname}.{fname}") != graph:
            continue
        raw = value_from_ast_untyped(args["contextArguments"]) if "contextArguments" in args else None
        for item in raw or ():
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "type", "context", "selection")):
                raise SupergraphError("SUPERGRAPH_INVALID", f"bad contextArguments on {tname}.{fname}")
            text = item["selection"].strip()
            if text.startswith("{") and text.endswith("}"):
                text = text[1:-1]
            selection = _field_set(text, f"{tname}.{fname} contextArguments")
            out.append(ContextArgument(item["name"], item["type"], item["context"], selection))
    return tuple(out)


def _field_meta(
    fnode: Any,
    tname: str,
    names: LinkedNames,
    d_field: str,
    graph_of: Any,
    type_graphs: frozenset[str],
    owner: str | None,
    subgraph_names: set[str],
) -> FieldMeta:
    fname = fnode.name.value
    meta = FieldMeta(
        name=fname,
        parent=tname,
        type_str=print_ast(fnode.type),
        named_type=named_type(fnode.type),
        inaccessible=_has_directive(fnode, names.directive("inaccessible")),
    )
    for args in _directives(fnode, d_field):
        g = graph_of(args, f"@{d_field} on {tname}.{fname}") if "graph" in args else None
        jf = JoinField(
            graph=g,
            requires=args.get("requires"),
            provides=args.get("provides"),
            type=args.get("type"),
            external=bool(args.get("external", False)),
            override=args.get("override"),
            override_label=args.get("overrideLabel"),
            used_overridden=bool(args.get("usedOverridden", False)),
        )
        if g is not None and args.get("contextArguments"):
            meta.context_args[g] = _context_arguments(fnode, d_field, g, graph_of, tname, fname)
        if jf.requires:
            jf.requires_selection = _field_set(jf.requires, f"{tname}.{fname} @requires")
        if jf.provides:
            jf.provides_selection = _field_set(jf.provides, f"{tname}.{fname} @provides")
        meta.join_fields.append(jf)

    if not meta.join_fields:
        available = {owner} if owner else set(type_graphs)
        resolvable = set(available)
    else:
        available = set()
        resolvable = set()
        for jf in meta.join_fields:
            if jf.graph is None:
                continue
            available.add(jf.graph)
            if not jf.external and not jf.used_overridden:
                resolvable.add(jf.graph)
            if jf.requires_selection is not None:
                meta.requires[jf.graph] = jf.requires_selection
            if jf.provides_selection is not None:
                meta.provides[jf.graph] = jf.provides_selection
            if jf.type:
                meta.type_in[jf.graph] = jf.type
        for jf in meta.join_fields:
            if jf.graph is None or not jf.override or jf.override not in subgraph_names:
                continue
            if jf.override_label and jf.override_label != "percent(100)":
                # Progressive override: which side resolves the field depends on the label, decided
                # per request (see Supergraph.variant); both sides stay candidates.
                meta.label_rules[jf.graph] = (jf.override_label, True)
                meta.label_rules[jf.override] = (jf.override_label, False)
                resolvable.add(jf.override)
            else:
                resolvable.discard(jf.override)
    meta.available_in = frozenset(available)
    meta.resolvable_base = frozenset(resolvable)
    meta.resolvable_in = label_view(meta, frozenset())
    return meta


def describe_type(schema: GraphQLSchema, name: str) -> str:
    """SDL of one type of a schema (for messages and debugging)."""
    t = schema.get_type(name)
    return print_type(t) if t else ""
