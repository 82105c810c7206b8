"""`Supergraph`: the API schema clients see plus the routing metadata the planner reads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

from graphql import GraphQLSchema, is_abstract_type

from .model import FieldMeta, TypeMeta, label_view


@dataclass(eq=False)
class Supergraph:
    sdl: str
    sdl_hash: str
    api_schema: GraphQLSchema
    # The supergraph minus join/link machinery, @inaccessible elements kept: planning and
    # representations may need them (a `@requires` can select an inaccessible field).
    full_schema: GraphQLSchema
    subgraph_urls: dict[str, str]
    types: dict[str, TypeMeta]
    join_version: tuple[int, int]
    # Every progressive-override label (`@override(label:)`) the supergraph uses.
    override_labels: frozenset[str] = frozenset()
    _possible: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _variants: dict[frozenset[str], Supergraph] = field(default_factory=dict, repr=False)

    def variant(self, active: frozenset[str]) -> Supergraph:
        """This supergraph as planned when the progressive-override labels `active` are on.

        Its `sdl_hash` names the labels, so plans made for one label set never serve another."""
        active = active & self.override_labels
        if not active:
            return self
        got = self._variants.get(active)
        if got is None:
            types = dict(self.types)
            for name, meta in self.types.items():
                labeled = {f: m for f, m in meta.fields.items() if m.label_rules}
                if labeled:
                    fields = dict(meta.fields)
                    for fname, fmeta in labeled.items():
                        fields[fname] = dataclasses.replace(fmeta, resolvable_in=label_view(fmeta, active))
                    types[name] = dataclasses.replace(meta, fields=fields)
            got = dataclasses.replace(
                self, sdl_hash=self.sdl_hash + "|" + ",".join(sorted(active)), types=types, _variants={}
            )
            got._possible = self._possible
            self._variants[active] = got
        return got

    @property
    def subgraphs(self) -> list[str]:
        return list(self.subgraph_urls)

    def possible_types(self, type_name: str) -> frozenset[str]:
        """Concrete object types of `type_name` in the supergraph (inaccessible ones included)."""
        cached = self._possible.get(type_name)
        if cached is not None:
            return cached
        t = self.full_schema.get_type(type_name)
        if t is None:
            result: frozenset[str] = frozenset()
        elif is_abstract_type(t):
            result = frozenset(o.name for o in self.full_schema.get_possible_types(t))  # type: ignore[arg-type]
        else:
            result = frozenset((type_name,))
        self._possible[type_name] = result
        return result

    def satisfies(self, typename: str, condition: str) -> bool:
        """True when an object of type `typename` matches a fragment on `condition`."""
        return typename == condition or typename in self.possible_types(condition)

    def field(self, type_name: str, field_name: str) -> FieldMeta | None:
        meta = self.types.get(type_name)
        return meta.fields.get(field_name) if meta else None

    @cached_property
    def interface_objects(self) -> dict[str, frozenset[str]]:
        """Interface name -> subgraphs that model it as an `@interfaceObject`."""
        return {name: t.interface_object_in for name, t in self.types.items() if t.interface_object_in}

    def possible_types_in(self, abstract: str, graph: str) -> frozenset[str]:
        """Concrete types a subgraph can return for an abstract type (its own view of members)."""
        meta = self.types.get(abstract)
        if meta is None:
            return frozenset()
        if meta.kind == "UNION":
            return meta.union_members_in.get(graph, frozenset())
        if meta.kind == "INTERFACE":
            out = set()
            for name in self.possible_types(abstract):
                t = self.types.get(name)
                if t and abstract in t.implements_in.get(graph, ()):
                    out.add(name)
            return frozenset(out)
        if meta.kind == "OBJECT":
            return frozenset((abstract,)) if graph in meta.graphs else frozenset()
        return frozenset()
