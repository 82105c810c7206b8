"""`Supergraph`: the API schema clients see plus the routing metadata the planner reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from graphql import GraphQLSchema, is_abstract_type

from .model import FieldMeta, TypeMeta


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
    _possible: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

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
