"""Federation 1 subgraphs upgraded to federation 2 semantics (internals-js/src/schemaUpgrader.ts).

Fed2 subgraphs pass through untouched; each fed1 subgraph is rewritten in place, looking at the
*original* form of the other subgraphs (as Apollo does).
"""

from __future__ import annotations

import copy

from graphql import DirectiveNode, NameNode

from .errors import CompositionError
from .fieldsets import is_composite, iter_targets, leaf_targets
from .metadata import Metadata, field_set_of
from .subgraph import INTERFACE, OBJECT, UNION, Applied, SType, Subgraph, named_type


def _shareable() -> Applied:
    return Applied("shareable", {}, -1, DirectiveNode(name=NameNode(value="shareable"), arguments=()), True)


def _is_root(sub: Subgraph, name: str) -> bool:
    return name in sub.roots.values() or name in ("Query", "Mutation", "Subscription")


def _is_federation_type_extension(t: SType) -> bool:
    has_extends = t.has("extends")
    return ((t.has_extension or has_extends) and t.kind in (OBJECT, INTERFACE)
            and (has_extends or not t.has_definition))


def _is_root_type_extension(sub: Subgraph, t: SType) -> bool:
    return (t.kind == OBJECT and _is_root(sub, t.name)
            and (t.has("extends") or (t.has_extension and not t.has_definition)))


class _Upgrader:
    def __init__(self, sub: Subgraph, originals: list[Subgraph], orig_meta: dict[str, Metadata]) -> None:
        self.sub = sub
        self.others = [o for o in originals if o.name != sub.name]
        self.orig_meta = orig_meta
        self.errors: list[CompositionError] = []

    def error(self, code: str, message: str) -> None:
        self.errors.append(CompositionError(code, f"[{self.sub.name}] {message}", [self.sub.name]))

    def upgrade(self) -> list[CompositionError]:
        sub = self.sub
        for t in sub.types.values():
            self.check_extension_with_no_base(t)
        if self.errors:
            return self.errors
        for t in sub.types.values():
            if t.kind == INTERFACE:
                for f in t.fields.values():
                    f.directives = [d for d in f.directives if d.name != "external"]
            if t.kind == OBJECT:
                t.directives = [d for d in t.directives if d.name != "external"]
        self.remove_external_on_type_extensions()
        self.fix_inactive_provides_and_requires()
        for t in sub.types.values():
            if _is_federation_type_extension(t) or _is_root_type_extension(sub, t):
                # Apollo's removeExtensions(): the elements now belong to the definition.
                t.has_definition = True
                t.extension_blocks = 0
                for d in t.directives:
                    d.block = 0
                for f in t.fields.values():
                    f.block = 0
        for t in sub.types.values():
            if t.kind == INTERFACE:
                t.directives = [d for d in t.directives if d.name != "key"]
                for f in t.fields.values():
                    f.directives = [d for d in f.directives if d.name not in ("provides", "requires")]
            if t.kind == OBJECT:
                for f in t.fields.values():
                    if not is_composite(sub, named_type(f.type)):
                        f.directives = [d for d in f.directives if d.name != "provides"]
        self.remove_unused_externals()
        self.add_shareable()
        self.remove_tag_on_external()
        sub.links.fed2 = True
        sub.links.upgraded = True
        sub.links.version = (2, 4)
        return self.errors

    def check_extension_with_no_base(self, t: SType) -> None:
        if _is_root_type_extension(self.sub, t) or not _is_federation_type_extension(t):
            return
        for o in self.others:
            ot = o.type(t.name)
            if ot is not None and ot.kind in (OBJECT, INTERFACE) and ot.has_definition and not ot.has("extends"):
                return
        self.error("EXTENSION_WITH_NO_BASE",
                   f'Type "{t.name}" is an extension type, but there is no type definition for "{t.name}" in any subgraph.')

    def remove_external_on_type_extensions(self) -> None:
        sub = self.sub
        for t in sub.types.values():
            if t.kind not in (OBJECT, INTERFACE, UNION):
                continue
            if not _is_federation_type_extension(t) and not _is_root_type_extension(sub, t):
                continue
            keys = t.all("key")
            if keys:
                for k in keys:
                    sel = field_set_of(k)
                    if sel is None:
                        continue
                    for f in _direct_targets(sub, t, sel):
                        f.directives = [d for d in f.directives if d.name != "external"]
            else:
                for o in self.others:
                    ot = o.type(t.name)
                    if ot is None:
                        continue
                    okeys = ot.all("key")
                    if not okeys:
                        continue
                    sel = field_set_of(okeys[0])
                    if sel is None:
                        continue
                    for of in _direct_targets(o, ot, sel):
                        own = t.fields.get(of.name)
                        if own is not None:
                            own.directives = [d for d in own.directives if d.name != "external"]

    def fix_inactive_provides_and_requires(self) -> None:
        sub = self.sub
        meta = Metadata(sub)
        for t in sub.types.values():
            if t.kind != OBJECT:
                continue
            for f in t.fields.values():
                keep = []
                for d in f.directives:
                    if d.name in ("provides", "requires"):
                        sel = field_set_of(d)
                        parent = named_type(f.type) if d.name == "provides" else t.name
                        if sel is not None and not any(meta.is_external(x) for x in leaf_targets(sub, parent, sel)):
                            continue
                    keep.append(d)
                f.directives = keep

    def remove_unused_externals(self) -> None:
        sub = self.sub
        meta = Metadata(sub)
        for t in list(sub.types.values()):
            if t.kind not in (OBJECT, INTERFACE):
                continue
            for f in list(t.fields.values()):
                if meta.is_external(f) and not meta.is_used(f):
                    del t.fields[f.name]
            if not t.fields and not (t.kind == OBJECT and t.name == "Query"):
                if _is_referenced(sub, t.name):
                    self.error("TYPE_WITH_ONLY_UNUSED_EXTERNAL",
                               f"Type {t.name} contains only external fields and all those fields are all unused (they "
                               "do not appear in any @key, @provides or @requires).")
                else:
                    del sub.types[t.name]

    def add_shareable(self) -> None:
        sub = self.sub
        orig_meta = self.orig_meta[sub.name]
        for t in sub.types.values():
            if t.kind != OBJECT or t.name == sub.roots.get("subscription", "Subscription"):
                continue
            if t.has("key") or _is_root(sub, t.name):
                for f in t.fields.values():
                    if f.coordinate in orig_meta.shareable:
                        continue
                    resolved_elsewhere = False
                    for o in self.others:
                        of = o.field(t.name, f.name)
                        if of is None:
                            continue
                        om = self.orig_meta[o.name]
                        if not om.is_external(of) or of.coordinate in om.provided:
                            resolved_elsewhere = True
                    if resolved_elsewhere and not f.has("shareable"):
                        f.directives.append(_shareable())
            else:
                if any(o.type(t.name) is not None and o.type(t.name).kind in (OBJECT, INTERFACE)  # type: ignore[union-attr]
                       for o in self.others) and not t.has("shareable"):
                    t.directives.append(_shareable())

    def remove_tag_on_external(self) -> None:
        sub = self.sub
        for t in sub.types.values():
            for f in t.fields.values():
                if not f.has("external"):
                    continue
                keep = []
                for d in f.directives:
                    if d.name == "tag":
                        from graphql import print_ast

                        mine = {k: print_ast(v) for k, v in d.args.items()}
                        used = False
                        for o in self.others:
                            of = o.field(t.name, f.name)
                            if of is None or of.has("external"):
                                continue
                            if any({k: print_ast(v) for k, v in od.args.items()} == mine for od in of.all("tag")):
                                used = True
                        if used:
                            continue
                    keep.append(d)
                f.directives = keep


def _direct_targets(sub: Subgraph, t: SType, sel: object) -> list:
    from graphql import FieldNode, SelectionSetNode

    assert isinstance(sel, SelectionSetNode)
    out = []
    for s in sel.selections:
        if isinstance(s, FieldNode) and s.name.value in t.fields:
            out.append(t.fields[s.name.value])
    return out


def _is_referenced(sub: Subgraph, name: str) -> bool:
    for t in sub.types.values():
        if name in t.members or name in t.interfaces:
            return True
        for f in t.fields.values():
            if named_type(f.type) == name:
                return True
            if any(named_type(a.type) == name for a in f.args.values()):
                return True
    return False


def upgrade_fed1(subs: list[Subgraph]) -> list[CompositionError]:
    """Upgrade every fed1 subgraph in place; returns upgrade errors (prefixed with the subgraph)."""
    originals = copy.deepcopy(subs)
    orig_meta = {o.name: Metadata(o) for o in originals}
    errors: list[CompositionError] = []
    fed1_interface_keys: dict[str, list[str]] = {}
    for s in subs:
        if not s.fed2:
            for t in s.types.values():
                if t.kind == INTERFACE and t.has("key"):
                    fed1_interface_keys.setdefault(t.name, []).append(s.name)
    for s in subs:
        if not s.fed2:
            errors.extend(_Upgrader(s, originals, orig_meta).upgrade())
    for s in subs:
        if s.fed2 and not s.links.upgraded:
            for t in s.types.values():
                if t.has("interfaceObject") and t.name in fed1_interface_keys:
                    from .reporter import subgraph_names

                    errors.append(CompositionError(
                        "INTERFACE_OBJECT_USAGE_ERROR",
                        f'The @interfaceObject directive is used on type "{t.name}" in {subgraph_names([s.name])}, '
                        "which requires other subgraphs to resolve its type name via an interface @key. However, @key "
                        "on an interface in a federation 1 subgraph does not mean it can fulfill the "
                        "__typename-resolution requirement that @interfaceObject depends on. For "
                        f"{subgraph_names(fed1_interface_keys[t.name])}, either upgrade them to federation 2 subgraphs "
                        "or remove @key from the type.", [s.name]))
    return errors


__all__ = ["upgrade_fed1", "iter_targets"]
