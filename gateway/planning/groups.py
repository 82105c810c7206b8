"""Fetch groups: the subgraph operations a plan is made of, built up while the planner walks.

`OutSel` is a mutable selection set for one subgraph operation; `FetchGroup` is one fetch with its
inputs (the representation selection, for entity fetches) and the groups it must wait for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import ArgumentNode, VariableNode, print_ast, visit
from graphql.language import Visitor

from .nodes import (
    ContextRewrite,
    FlattenPath,
    KeyRenamer,
    RequiresField,
    RequiresInlineFragment,
    RequiresSelection,
    Rewrite,
    TypeCondition,
)
from .normalize import Cond


@dataclass(eq=False, slots=True)
class OutField:
    name: str
    alias: str | None
    args: tuple[ArgumentNode, ...]
    conds: tuple[Cond, ...]
    sel: OutSel | None = None
    # The field's type in this subgraph, to find fields that cannot merge (see alias_conflicts).
    type_str: str = ""


@dataclass(eq=False, slots=True)
class OutFrag:
    type_condition: str
    conds: tuple[Cond, ...]
    sel: OutSel


class OutSel:
    """An ordered, merging selection set: adding a field twice returns the first one."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[tuple[object, ...], OutField | OutFrag] = {}

    def add_field(
        self,
        name: str,
        alias: str | None = None,
        args: tuple[ArgumentNode, ...] = (),
        conds: tuple[Cond, ...] = (),
        composite: bool = False,
        type_str: str = "",
    ) -> OutField:
        args_key = ",".join(print_ast(a) for a in args) if args else ""
        k = ("f", alias or name, args_key, conds)
        got = self.items.get(k)
        if got is None:
            got = OutField(name, alias, args, conds, OutSel() if composite else None, type_str)
            self.items[k] = got
        assert isinstance(got, OutField)
        if composite and got.sel is None:
            got.sel = OutSel()
        return got

    def add_typename(self) -> None:
        if ("f", "__typename", "", ()) not in self.items:
            self.add_field("__typename")

    def frag(self, type_condition: str, conds: tuple[Cond, ...] = ()) -> OutSel:
        k = ("t", type_condition, conds)
        got = self.items.get(k)
        if got is None:
            got = OutFrag(type_condition, conds, OutSel())
            self.items[k] = got
        assert isinstance(got, OutFrag)
        return got.sel

    def is_empty(self) -> bool:
        return not self.items

    def print(self, indent: str = "", compact: bool = False) -> str:
        """Printed as a selection set (`{ ... }`), pretty (plan display) or compact (sent)."""
        if compact:
            return "{" + " ".join(_print_item(i, "", True) for i in self.items.values()) + "}"
        lines = ["{"]
        for item in self.items.values():
            lines.append(_print_item(item, indent + "  ", False))
        lines.append(indent + "}")
        return "\n".join(lines)


def _print_conds(conds: tuple[Cond, ...]) -> str:
    return "".join(f" @{'include' if keep else 'skip'}(if: ${var})" for var, keep in conds)


def _print_item(item: OutField | OutFrag, indent: str, compact: bool) -> str:
    if isinstance(item, OutField):
        head = f"{item.alias}: {item.name}" if item.alias else item.name
        if item.args:
            head += "(" + ", ".join(print_ast(a) for a in item.args) + ")"
        head += _print_conds(item.conds)
        if item.sel is None:
            return indent + head
        if item.sel.is_empty():
            item.sel.add_typename()
        return indent + head + " " + item.sel.print(indent, compact)
    head = f"... on {item.type_condition}" + _print_conds(item.conds)
    if item.sel.is_empty():
        item.sel.add_typename()
    return indent + head + " " + item.sel.print(indent, compact)


def used_variables(sel: OutSel, out: list[str]) -> None:
    """Variable names used by arguments and conditions in `sel`, in first-use order."""
    for item in sel.items.values():
        for var, _ in item.conds:
            if var not in out:
                out.append(var)
        if isinstance(item, OutField):
            for arg in item.args:
                _vars_in_ast(arg, out)
        if item.sel is not None:
            used_variables(item.sel, out)


class _VarCollector(Visitor):
    def __init__(self, out: list[str]) -> None:
        super().__init__()
        self.out = out

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        if node.name.value not in self.out:
            self.out.append(node.name.value)


def _vars_in_ast(node: ArgumentNode, out: list[str]) -> None:
    visit(node, _VarCollector(out))


def outsel_to_requires(sel: OutSel) -> tuple[RequiresSelection, ...]:
    """The representation selection of an entity fetch, as plan data."""
    result: list[RequiresSelection] = []
    for item in sel.items.values():
        if isinstance(item, OutField):
            sub = outsel_to_requires(item.sel) if item.sel is not None else None
            # item.alias here is the key the value is read from (an internal alias); see RequiresField.
            result.append(RequiresField(item.name, item.alias, sub))
        else:
            result.append(RequiresInlineFragment(item.type_condition, outsel_to_requires(item.sel)))
    return tuple(result)


@dataclass(eq=False)
class FetchGroup:
    id: int
    subgraph: str
    is_entity: bool
    path: FlattenPath
    conds: tuple[Cond, ...] = ()
    operation_kind: str = "query"
    out: OutSel = field(default_factory=OutSel)
    inputs: OutSel = field(default_factory=OutSel)
    deps: set[int] = field(default_factory=set)
    input_rewrites: list[Rewrite] = field(default_factory=list)
    output_rewrites: list[Rewrite] = field(default_factory=list)
    path_variants: list[FlattenPath] = field(default_factory=list)
    context_rewrites: list[ContextRewrite] = field(default_factory=list)

    def printed_path(self) -> FlattenPath:
        """The Flatten path, with type conditions merged over every place the group was used."""
        variants = self.path_variants or [self.path]
        base = list(variants[0])
        for v in variants[1:]:
            if len(v) != len(base):
                continue
            for i, seg in enumerate(v):
                if isinstance(seg, TypeCondition) and isinstance(base[i], TypeCondition):
                    prev = base[i]
                    assert isinstance(prev, TypeCondition)
                    merged = tuple(sorted(set(prev.types) | set(seg.types)))
                    base[i] = TypeCondition(merged)
        return tuple(base)


def alias_conflicts(sel: OutSel, path: tuple[str, ...], rewrites: list[Rewrite], counter: list[int]) -> None:
    """Alias same-named fields whose types differ across fragments (`ID!` vs `ID`), which a subgraph
    would reject as unmergeable; a KeyRenamer puts the client's name back on the result."""
    entries: list[tuple[tuple[str, ...], OutField]] = []

    def gather(s: OutSel, prefix: tuple[str, ...]) -> None:
        for item in s.items.values():
            if isinstance(item, OutFrag):
                gather(item.sel, prefix + (f"... on {item.type_condition}",))
            else:
                entries.append((prefix, item))

    gather(sel, ())
    by_key: dict[str, list[tuple[tuple[str, ...], OutField]]] = {}
    for prefix, f in entries:
        by_key.setdefault(f.alias or f.name, []).append((prefix, f))
    for key, fields in by_key.items():
        first = fields[0][1].type_str
        if all(f.type_str == first or not f.type_str for _, f in fields):
            continue
        for prefix, f in fields:
            if f.type_str and f.type_str != first:
                alias = f"_internal_qp_alias_{counter[0]}"
                counter[0] += 1
                f.alias = alias
                rewrites.append(KeyRenamer(path + prefix + (alias,), key))
    for prefix, f in entries:
        if f.sel is not None:
            key = f.name if f.alias and f.alias.startswith("_internal_qp_alias_") else (f.alias or f.name)
            alias_conflicts(f.sel, path + prefix + (key,), rewrites, counter)
