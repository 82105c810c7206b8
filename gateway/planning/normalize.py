"""Operation normalization: fragments inlined, literal conditions applied, abstract selections split per type.

The planner works on `NSel`: for a concrete parent type a flat list of fields; for an abstract parent
type the fields selected on the abstract type itself plus, per possible concrete type, the fields that
only fragments on (or covering) that type select.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    print_ast,
)

from ..supergraph import Supergraph

Cond = tuple[str, bool]  # (variable, value that keeps the selection): @include(if: $v) -> (v, True)


@dataclass(eq=False, slots=True)
class NField:
    key: str
    name: str
    alias: str | None
    args: tuple[ArgumentNode, ...]
    conds: tuple[Cond, ...]
    parent: str
    type_name: str
    list_depth: int
    sel: NSel | None = None
    # Set for requires/key fields that the planner adds; they are never shown to clients.
    hidden: bool = False

    @property
    def args_key(self) -> str:
        return ",".join(print_ast(a) for a in self.args) if self.args else ""

    def with_sel(self, sel: NSel | None) -> NField:
        return NField(
            self.key, self.name, self.alias, self.args, self.conds, self.parent, self.type_name,
            self.list_depth, sel, self.hidden,
        )


@dataclass(eq=False, slots=True)
class NSel:
    type: str
    fields: list[NField] = field(default_factory=list)
    by_type: dict[str, list[NField]] = field(default_factory=dict)
    _cache: dict[str, list[NField]] = field(default_factory=dict)
    # For an abstract `type`: re-homes a field selected on it onto one concrete type.
    reparent: Callable[[NField, str], NField] | None = None

    def for_type(self, concrete: str) -> list[NField]:
        """Every field that applies to an object of type `concrete`, as fields of that type."""
        got = self._cache.get(concrete)
        if got is None:
            extra = self.by_type.get(concrete)
            fields = self.fields
            if self.reparent is not None and concrete != self.type:
                # `Iface.f` selected on the interface is `Concrete.f` here: its own type (maybe narrower)
                # and its own @provides/@requires apply.
                reparent = self.reparent
                fields = [reparent(f, concrete) for f in fields]
            got = merge_fields(fields + extra) if extra else fields
            self._cache[concrete] = got
        return got

    def wants_typename(self) -> bool:
        return any(f.name == "__typename" for f in self.fields) or any(
            f.name == "__typename" for fs in self.by_type.values() for f in fs
        )


def _conds_of(directives: tuple[DirectiveNode, ...] | None) -> tuple[Cond, ...] | None:
    """Variable conditions of a selection; None when a literal condition removes it."""
    out: list[Cond] = []
    for d in directives or ():
        name = d.name.value
        if name not in ("skip", "include"):
            continue
        arg = next((a for a in d.arguments or () if a.name.value == "if"), None)
        if arg is None:
            continue
        keep_if = name == "include"
        if isinstance(arg.value, BooleanValueNode):
            if arg.value.value != keep_if:
                return None
        elif isinstance(arg.value, VariableNode):
            out.append((arg.value.name.value, keep_if))
    return tuple(out)


def _list_depth(type_str: str) -> int:
    return type_str.count("[")


class Normalizer:
    """Turns selection sets of an operation (or a field set) into NSel trees for one supergraph."""

    def __init__(self, supergraph: Supergraph, fragments: dict[str, FragmentDefinitionNode] | None = None):
        self.sg = supergraph
        self.fragments = fragments or {}

    def selection(self, type_name: str, selection_set: SelectionSetNode, hidden: bool = False) -> NSel:
        sel = NSel(type_name, reparent=self._reparent if self._is_abstract(type_name) else None)
        self._collect(type_name, selection_set, (), sel.fields, sel.by_type, hidden)
        sel.fields = merge_fields(sel.fields)
        for k, v in list(sel.by_type.items()):
            sel.by_type[k] = merge_fields(v)
        return sel

    def _reparent(self, f: NField, concrete: str) -> NField:
        if f.name == "__typename" or f.parent == concrete:
            return f
        meta = self.sg.field(concrete, f.name)
        if meta is None:
            return f
        return NField(
            f.key, f.name, f.alias, f.args, f.conds, concrete, meta.named_type, _list_depth(meta.type_str),
            f.sel, f.hidden,
        )

    def _is_abstract(self, type_name: str) -> bool:
        meta = self.sg.types.get(type_name)
        return meta is not None and meta.kind in ("INTERFACE", "UNION")

    def _collect(
        self,
        parent: str,
        selection_set: SelectionSetNode,
        conds: tuple[Cond, ...],
        out: list[NField],
        by_type: dict[str, list[NField]],
        hidden: bool,
    ) -> None:
        for node in selection_set.selections:
            c = _conds_of(node.directives)
            if c is None:
                continue
            c = conds + c
            if isinstance(node, FieldNode):
                out.append(self._field(parent, node, c, hidden))
                continue
            if isinstance(node, FragmentSpreadNode):
                frag = self.fragments[node.name.value]
                type_cond = frag.type_condition.name.value
                sub = frag.selection_set
            else:
                assert isinstance(node, InlineFragmentNode)
                type_cond = node.type_condition.name.value if node.type_condition else parent
                sub = node.selection_set
            if type_cond == parent:
                self._collect(parent, sub, c, out, by_type, hidden)
            elif not self._is_abstract(parent):
                if self.sg.satisfies(parent, type_cond):
                    self._collect(parent, sub, c, out, by_type, hidden)
            else:
                wanted = self.sg.possible_types(type_cond)
                for concrete in sorted(self.sg.possible_types(parent) & wanted):
                    target = by_type.setdefault(concrete, [])
                    self._collect(concrete, sub, c, target, by_type, hidden)

    def _field(self, parent: str, node: FieldNode, conds: tuple[Cond, ...], hidden: bool) -> NField:
        name = node.name.value
        alias = node.alias.value if node.alias else None
        if name == "__typename":
            return NField(alias or name, name, alias, (), conds, parent, "String", 0, None, hidden)
        meta = self.sg.field(parent, name)
        if meta is None:
            gql_type = self.sg.full_schema.get_type(parent)
            fdef = getattr(gql_type, "fields", {}).get(name)
            if fdef is None:
                raise KeyError(f"{parent}.{name}")
            type_str = str(fdef.type)
        else:
            type_str = meta.type_str
        named = type_str.replace("[", "").replace("]", "").replace("!", "")
        sub = self.selection(named, node.selection_set, hidden) if node.selection_set else None
        return NField(
            alias or name, name, alias, tuple(node.arguments or ()), conds, parent, named,
            _list_depth(type_str), sub, hidden,
        )


def merge_fields(fields: list[NField]) -> list[NField]:
    """Merge fields with the same response key, arguments and conditions; keep first-seen order."""
    if len(fields) < 2:
        return fields
    seen: dict[tuple[str, str, tuple[Cond, ...]], int] = {}
    out: list[NField] = []
    for f in fields:
        k = (f.key, f.args_key, f.conds)
        i = seen.get(k)
        if i is None:
            seen[k] = len(out)
            out.append(f)
            continue
        prev = out[i]
        if prev.sel is None or f.sel is None:
            if prev.hidden and not f.hidden:
                out[i] = f
            continue
        merged = NSel(
            prev.sel.type,
            merge_fields(prev.sel.fields + f.sel.fields),
            dict(prev.sel.by_type),
            reparent=prev.sel.reparent or f.sel.reparent,
        )
        for t, fs in f.sel.by_type.items():
            merged.by_type[t] = merge_fields(merged.by_type.get(t, []) + fs)
        out[i] = prev.with_sel(merged)
        out[i].hidden = prev.hidden and f.hidden
    return out
