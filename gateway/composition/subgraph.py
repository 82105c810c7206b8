"""Subgraph model: types, fields and directives as written, with federation names resolved.

We keep our own model rather than a graphql-core schema: federation allows orphan `extend type`,
and merging needs to know which block (definition or extension) declared each element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    ValueNode,
)

from .links import LinkResolution

OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT, SCALAR = (
    "ObjectType", "InterfaceType", "UnionType", "EnumType", "InputObjectType", "ScalarType")
BUILTIN_SCALARS = ("String", "Int", "Float", "Boolean", "ID")
BUILTIN_DIRECTIVES = ("deprecated", "specifiedBy", "skip", "include", "oneOf")
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


@dataclass(slots=True)
class Applied:
    """An applied directive. `name` is canonical for federation directives (`key`), else as written."""

    name: str
    args: dict[str, ValueNode]
    block: int  # 0: the definition, k>0: the k-th extension block
    node: DirectiveNode
    federation: bool = False

    def str_arg(self, name: str) -> str | None:
        v = self.args.get(name)
        return v.value if isinstance(v, StringValueNode) else None

    def bool_arg(self, name: str) -> bool | None:
        v = self.args.get(name)
        return v.value if isinstance(v, BooleanValueNode) else None


class _Directed:
    directives: list[Applied]

    def has(self, name: str) -> bool:
        return any(d.name == name for d in self.directives)

    def get(self, name: str) -> Applied | None:
        return next((d for d in self.directives if d.name == name), None)

    def all(self, name: str) -> list[Applied]:
        return [d for d in self.directives if d.name == name]


@dataclass(slots=True)
class SArgument(_Directed):
    name: str
    type: TypeNode
    default: ValueNode | None
    description: str | None
    directives: list[Applied] = field(default_factory=list)
    node: InputValueDefinitionNode | None = None


@dataclass(slots=True)
class SField(_Directed):
    name: str
    parent: str
    type: TypeNode
    args: dict[str, SArgument] = field(default_factory=dict)
    description: str | None = None
    directives: list[Applied] = field(default_factory=list)
    block: int = 0
    default: ValueNode | None = None  # input fields only
    node: Any = None

    @property
    def coordinate(self) -> str:
        return f"{self.parent}.{self.name}"


@dataclass(slots=True)
class SEnumValue(_Directed):
    name: str
    description: str | None = None
    directives: list[Applied] = field(default_factory=list)


@dataclass(slots=True)
class SType(_Directed):
    kind: str
    name: str
    description: str | None = None
    directives: list[Applied] = field(default_factory=list)
    fields: dict[str, SField] = field(default_factory=dict)
    values: dict[str, SEnumValue] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    has_definition: bool = False
    extension_blocks: int = 0
    node: Any = None  # the first definition or extension node

    @property
    def has_extension(self) -> bool:
        return self.extension_blocks > 0


@dataclass(slots=True)
class SDirectiveDef:
    name: str
    args: dict[str, SArgument]
    locations: list[str]
    repeatable: bool
    description: str | None
    node: DirectiveDefinitionNode


@dataclass
class Subgraph:
    """One subgraph after loading: names resolved, federation machinery stripped."""

    name: str
    url: str
    links: LinkResolution
    types: dict[str, SType] = field(default_factory=dict)
    directive_defs: dict[str, SDirectiveDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # operation -> type name
    schema_directives: list[Applied] = field(default_factory=list)
    build_errors: list[str] = field(default_factory=list)  # SDL problems found while building (unprefixed)
    # Directives on federation elements we regenerate (`_service`, `_entities`, `_Service.sdl`, ...):
    # not part of the model, but Apollo still checks that they exist.
    hidden_applied: list[Applied] = field(default_factory=list)
    document: DocumentNode | None = None

    @property
    def fed2(self) -> bool:
        return self.links.fed2

    def type(self, name: str) -> SType | None:
        return self.types.get(name)

    def field(self, type_name: str, field_name: str) -> SField | None:
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t else None

    def is_interface_object(self, t: SType) -> bool:
        return t.kind == OBJECT and t.has("interfaceObject")

    def possible_runtime_types(self, name: str) -> list[str]:
        t = self.types.get(name)
        if t is None:
            return []
        if t.kind == OBJECT:
            return [name]
        if t.kind == UNION:
            return list(t.members)
        if t.kind == INTERFACE:
            return [o.name for o in self.types.values() if o.kind == OBJECT and name in o.interfaces]
        return []


def named_type(t: TypeNode) -> str:
    while not isinstance(t, NamedTypeNode):
        t = t.type  # type: ignore[attr-defined]
    return t.name.value


def type_str(t: TypeNode) -> str:
    if isinstance(t, NonNullTypeNode):
        return type_str(t.type) + "!"
    if isinstance(t, ListTypeNode):
        return "[" + type_str(t.type) + "]"
    assert isinstance(t, NamedTypeNode)
    return t.name.value


def rename_type(t: TypeNode, old: str, new: str) -> TypeNode:
    if isinstance(t, NonNullTypeNode):
        return NonNullTypeNode(type=rename_type(t.type, old, new))  # type: ignore[arg-type]
    if isinstance(t, ListTypeNode):
        return ListTypeNode(type=rename_type(t.type, old, new))
    assert isinstance(t, NamedTypeNode)
    if t.name.value == old:
        from graphql import NameNode

        return NamedTypeNode(name=NameNode(value=new))
    return t


_KIND_OF_NODE: dict[type, str] = {
    ObjectTypeDefinitionNode: OBJECT, ObjectTypeExtensionNode: OBJECT,
    InterfaceTypeDefinitionNode: INTERFACE, InterfaceTypeExtensionNode: INTERFACE,
    UnionTypeDefinitionNode: UNION, UnionTypeExtensionNode: UNION,
    EnumTypeDefinitionNode: ENUM, EnumTypeExtensionNode: ENUM,
    InputObjectTypeDefinitionNode: INPUT_OBJECT, InputObjectTypeExtensionNode: INPUT_OBJECT,
    ScalarTypeDefinitionNode: SCALAR, ScalarTypeExtensionNode: SCALAR,
}
_EXTENSION_NODES = (
    ObjectTypeExtensionNode, InterfaceTypeExtensionNode, UnionTypeExtensionNode, EnumTypeExtensionNode,
    InputObjectTypeExtensionNode, ScalarTypeExtensionNode,
)


class _Builder:
    def __init__(self, name: str, url: str, doc: DocumentNode, links: LinkResolution) -> None:
        self.sub = Subgraph(name=name, url=url, links=links, document=doc)
        self.doc = doc
        self.unknown_directives: list[str] = []

    def applied(self, nodes: tuple[DirectiveNode, ...] | list[DirectiveNode] | None, block: int) -> list[Applied]:
        out: list[Applied] = []
        for d in nodes or ():
            raw = d.name.value
            args = {a.name.value: a.value for a in d.arguments or ()}
            canonical = self.sub.links.directives.get(raw)
            if canonical is not None:
                out.append(Applied(canonical, args, block, d, federation=True))
            else:
                out.append(Applied(raw, args, block, d))
        return out

    def argument(self, node: InputValueDefinitionNode) -> SArgument:
        return SArgument(
            name=node.name.value,
            type=node.type,
            default=node.default_value,
            description=node.description.value if node.description else None,
            directives=self.applied(node.directives, 0),
            node=node,
        )

    def build(self) -> Subgraph:
        sub = self.sub
        for d in self.doc.definitions:
            if isinstance(d, SchemaDefinitionNode | SchemaExtensionNode):
                for op in d.operation_types or ():
                    sub.roots[op.operation.value] = op.type.name.value
                sub.schema_directives.extend(self.applied(d.directives, 0))
            elif isinstance(d, DirectiveDefinitionNode):
                name = d.name.value
                if name in sub.links.directives or name == "link":
                    continue
                sub.directive_defs[name] = SDirectiveDef(
                    name=name,
                    args={a.name.value: self.argument(a) for a in d.arguments or ()},
                    locations=[loc.value for loc in d.locations],
                    repeatable=d.repeatable,
                    description=d.description.value if d.description else None,
                    node=d,
                )
            elif type(d) in _KIND_OF_NODE:
                self.add_type(d)
        for t in sub.types.values():
            if t.kind in (OBJECT, INTERFACE):
                for f in list(t.fields.values()):
                    # _service/_entities are regenerated, never merged
                    if t.name in ("Query", *sub.roots.values()) and f.name in ("_service", "_entities"):
                        sub.hidden_applied += f.directives
                        del t.fields[f.name]
        return sub

    def add_type(self, node: object) -> None:
        sub = self.sub
        kind = _KIND_OF_NODE[type(node)]
        name = node.name.value  # type: ignore[attr-defined]
        if name in sub.links.spec_types:
            for fd in getattr(node, "fields", None) or ():
                sub.hidden_applied += self.applied(fd.directives, 0)
            return
        is_ext = isinstance(node, _EXTENSION_NODES)
        t = sub.types.get(name)
        if t is None:
            t = SType(kind=kind, name=name, node=node)
            sub.types[name] = t
        elif t.kind != kind:
            self.sub.build_errors.append(f"Type {name} is defined with different kinds")
            return
        elif not is_ext and t.has_definition:
            self.sub.build_errors.append(f'There can be only one type named "{name}".')
        if is_ext:
            t.extension_blocks += 1
            block = t.extension_blocks
        else:
            t.has_definition = True
            block = 0
            desc = getattr(node, "description", None)
            if desc is not None:
                t.description = desc.value
        t.directives.extend(self.applied(getattr(node, "directives", None), block))
        if kind in (OBJECT, INTERFACE):
            for i in getattr(node, "interfaces", None) or ():
                if i.name.value not in t.interfaces:
                    t.interfaces.append(i.name.value)
        if kind in (OBJECT, INTERFACE, INPUT_OBJECT):
            for fnode in getattr(node, "fields", None) or ():
                fname = fnode.name.value
                if fname in t.fields:
                    self.sub.build_errors.append(f"Field {fname} already exists on {name}")
                    continue
                t.fields[fname] = SField(
                    name=fname,
                    parent=name,
                    type=fnode.type,
                    args={a.name.value: self.argument(a) for a in getattr(fnode, "arguments", None) or ()},
                    description=fnode.description.value if fnode.description else None,
                    directives=self.applied(fnode.directives, block),
                    block=block,
                    default=getattr(fnode, "default_value", None),
                    node=fnode,
                )
        elif kind == ENUM:
            for v in getattr(node, "values", None) or ():
                t.values.setdefault(v.name.value, SEnumValue(
                    name=v.name.value,
                    description=v.description.value if v.description else None,
                    directives=self.applied(v.directives, block),
                ))
        elif kind == UNION:
            for m in getattr(node, "types", None) or ():
                if m.name.value not in t.members:
                    t.members.append(m.name.value)


def build_subgraph(name: str, url: str, doc: DocumentNode, links: LinkResolution) -> Subgraph:
    """Build the model of one parsed subgraph (no validation)."""
    return _Builder(name, url, doc, links).build()
