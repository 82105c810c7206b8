"""Per-subgraph federation facts: which fields are external, shareable, key fields or used."""

from __future__ import annotations

from graphql import GraphQLError, SelectionSetNode

from .fieldsets import iter_targets, parse_field_set, targets_until_error
from .subgraph import INTERFACE, OBJECT, Applied, SField, Subgraph, named_type


def field_set_of(d: Applied) -> SelectionSetNode | None:
    fields = d.str_arg("fields")
    if fields is None:
        return None
    try:
        return parse_field_set(fields)
    except GraphQLError:
        return None


class Metadata:
    """Federation facts about one subgraph (federation.ts FederationMetadata, precompute.ts)."""

    def __init__(self, sub: Subgraph) -> None:
        self.sub = sub
        self.fake_externals: set[str] = set()
        self.provided: set[str] = set()
        self.shareable: set[str] = set()
        self.key_fields: set[str] = set()
        self.used: set[str] = set()
        self._compute()

    def _compute(self) -> None:
        sub = self.sub
        for t in sub.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            for key in t.all("key"):
                sel = field_set_of(key)
                if sel is None:
                    continue
                targets = list(iter_targets(sub, t.name, sel, include_impls=True))
                for f in targets:
                    self.key_fields.add(f.coordinate)
                    self.used.add(f.coordinate)
                if key.block > 0 or t.has("extends"):
                    for f in iter_targets(sub, t.name, sel, include_impls=False):
                        if f.has("external"):
                            self.fake_externals.add(f.coordinate)
        for t in sub.types.values():
            if t.kind != OBJECT:
                continue
            for f in t.fields.values():
                for req in f.all("requires"):
                    sel = field_set_of(req)
                    if sel is not None:
                        for x in targets_until_error(sub, t.name, sel):
                            self.used.add(x.coordinate)
                for prov in f.all("provides"):
                    sel = field_set_of(prov)
                    if sel is not None:
                        for x in targets_until_error(sub, named_type(f.type), sel):
                            self.used.add(x.coordinate)
                            if self.is_external(x):
                                self.provided.add(x.coordinate)
        # Fields a @fromContext selection reads on the types setting its context are used too.
        from .contexts import parse_context

        setters: dict[str, list[str]] = {}
        for t in sub.types.values():
            for d in t.all("context"):
                setters.setdefault(d.str_arg("name") or "", []).append(t.name)
        for t in sub.types.values():
            for f in t.fields.values():
                for a in f.args.values():
                    fc = a.get("fromContext")
                    parsed = parse_context(fc.str_arg("field") or "") if fc is not None else None
                    if parsed is None or parsed[0] not in setters:
                        continue
                    try:
                        sel = parse_field_set(parsed[1])
                    except GraphQLError:
                        continue
                    for setter in setters[parsed[0]]:
                        for x in targets_until_error(sub, setter, sel):
                            self.used.add(x.coordinate)
        # Fields of object types that implement an interface field count as used.
        for t in sub.types.values():
            if t.kind != OBJECT:
                continue
            for itf_name in t.interfaces:
                itf = sub.type(itf_name)
                if itf is None:
                    continue
                for fname in itf.fields:
                    if fname in t.fields:
                        self.used.add(f"{t.name}.{fname}")
        for t in sub.types.values():
            if t.kind != OBJECT:
                continue
            type_shareables = [d for d in t.directives if d.name == "shareable"] if sub.fed2 else []
            for f in t.fields.values():
                if (sub.fed2 and f.has("shareable")) or any(d.block in (f.block, -1) for d in type_shareables):
                    self.shareable.add(f.coordinate)
                if f.coordinate in self.key_fields:
                    self.shareable.add(f.coordinate)
                if f.coordinate in self.provided:
                    self.shareable.add(f.coordinate)

    def is_external(self, f: SField) -> bool:
        """`@external` on the field or its type, minus key fields of extensions ("fake" externals)."""
        if f.coordinate in self.fake_externals:
            return False
        if f.has("external"):
            return True
        t = self.sub.type(f.parent)
        return t is not None and t.kind == OBJECT and t.has("external")

    def is_fully_external(self, f: SField) -> bool:
        return self.is_external(f) and f.coordinate not in self.provided

    def is_shareable(self, f: SField) -> bool:
        return f.coordinate in self.shareable

    def is_used(self, f: SField) -> bool:
        return f.coordinate in self.used
