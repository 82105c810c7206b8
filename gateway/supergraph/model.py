"""Routing metadata read from a supergraph's `join__` directives: who resolves which type and field."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import SelectionSetNode


@dataclass(slots=True)
class JoinType:
    """One `@join__type` application: `graph` knows the type, maybe with a key."""

    graph: str
    key: str | None = None
    key_selection: SelectionSetNode | None = None
    resolvable: bool = True
    extension: bool = False
    is_interface_object: bool = False


@dataclass(slots=True)
class JoinField:
    """One `@join__field` application (graph None: a field the composer marked without a graph)."""

    graph: str | None
    requires: str | None = None
    requires_selection: SelectionSetNode | None = None
    provides: str | None = None
    provides_selection: SelectionSetNode | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """One `@fromContext` argument (join v0.5 `contextArguments`): argument `name` of type `type`
    takes the value of `selection` on the nearest ancestor object whose type sets `context`."""

    name: str
    type: str
    context: str
    selection: SelectionSetNode


@dataclass(slots=True)
class FieldMeta:
    name: str
    parent: str
    type_str: str
    named_type: str
    join_fields: list[JoinField] = field(default_factory=list)
    inaccessible: bool = False
    # Subgraphs where the field exists (external included) and where it can be resolved.
    available_in: frozenset[str] = frozenset()
    resolvable_in: frozenset[str] = frozenset()
    requires: dict[str, SelectionSetNode] = field(default_factory=dict)
    provides: dict[str, SelectionSetNode] = field(default_factory=dict)
    # The subgraph's own type when it differs from the supergraph's (`join__field(type:)`).
    type_in: dict[str, str] = field(default_factory=dict)
    # Progressive override (`@override(label:)`): graph -> (label, whether the graph resolves the
    # field when the label is active). `resolvable_in` above is the view with no label active.
    label_rules: dict[str, tuple[str, bool]] = field(default_factory=dict)
    resolvable_base: frozenset[str] = frozenset()
    # graph -> the arguments that subgraph takes from a context (`@fromContext`).
    context_args: dict[str, tuple[ContextArgument, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class TypeMeta:
    name: str
    kind: str  # OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT, SCALAR
    join_types: list[JoinType] = field(default_factory=list)
    graphs: frozenset[str] = frozenset()
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    implements_in: dict[str, frozenset[str]] = field(default_factory=dict)
    union_members_in: dict[str, frozenset[str]] = field(default_factory=dict)
    enum_values_in: dict[str, frozenset[str]] = field(default_factory=dict)
    inaccessible: bool = False
    interface_object_in: frozenset[str] = frozenset()
    # Contexts this type sets (`@context(name:)`, names as the supergraph spells them: `<graph>__<name>`).
    contexts: frozenset[str] = frozenset()

    def keys_in(self, graph: str, resolvable_only: bool = True) -> list[JoinType]:
        """Keys `graph` declares for this type; resolvable ones only unless asked."""
        return [
            jt
            for jt in self.join_types
            if jt.graph == graph and jt.key_selection is not None and (jt.resolvable or not resolvable_only)
        ]


def label_view(meta: FieldMeta, active: frozenset[str]) -> frozenset[str]:
    """Subgraphs resolving the field when the progressive-override labels in `active` are on."""
    if not meta.label_rules:
        return meta.resolvable_base
    return frozenset(
        g for g in meta.resolvable_base
        if g not in meta.label_rules or (meta.label_rules[g][0] in active) == meta.label_rules[g][1]
    )
