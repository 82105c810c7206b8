"""Field sets (`@key`/`@requires`/`@provides` `fields:`): parsing and the fields they select."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode
from graphql.language.parser import Parser

from .subgraph import INTERFACE, OBJECT, UNION, SField, Subgraph, named_type


def parse_field_set(fields: str) -> SelectionSetNode:
    """Parse `fields` as the inside of a selection set (raises GraphQLSyntaxError)."""
    from graphql.language.token_kind import TokenKind

    parser = Parser("{" + fields + "}", no_location=True)
    parser.expect_token(TokenKind.SOF)
    sel = parser.parse_selection_set()
    parser.expect_token(TokenKind.EOF)
    return sel


def iter_targets(
    sub: Subgraph, type_name: str, sel: SelectionSetNode, include_impls: bool = True
) -> Iterator[SField]:
    """Every field a selection set names, in every nested level (unknown names skipped)."""
    t = sub.type(type_name)
    if t is None:
        return
    for s in sel.selections:
        if isinstance(s, FieldNode):
            fname = s.name.value
            if fname == "__typename":
                continue
            f = t.fields.get(fname)
            if f is None:
                continue
            yield f
            if include_impls and t.kind == INTERFACE:
                for impl in sub.possible_runtime_types(t.name):
                    it = sub.field(impl, fname)
                    if it is not None:
                        yield it
            if s.selection_set is not None:
                yield from iter_targets(sub, named_type(f.type), s.selection_set, include_impls)
        elif isinstance(s, InlineFragmentNode):
            cond = s.type_condition.name.value if s.type_condition else type_name
            yield from iter_targets(sub, cond, s.selection_set, include_impls)


def targets_until_error(sub: Subgraph, type_name: str, sel: SelectionSetNode) -> list[SField]:
    """Fields named by a selection, in parse order, up to the first unknown one (Apollo stops there)."""
    out: list[SField] = []

    def walk(tname: str, ss: SelectionSetNode) -> bool:
        t = sub.type(tname)
        if t is None:
            return False
        for s in ss.selections:
            if isinstance(s, FieldNode):
                if s.name.value == "__typename":
                    continue
                f = t.fields.get(s.name.value)
                if f is None:
                    return False
                out.append(f)
                if t.kind == INTERFACE:
                    for impl in sub.possible_runtime_types(t.name):
                        it = sub.field(impl, f.name)
                        if it is not None:
                            out.append(it)
                if s.selection_set is not None and not walk(named_type(f.type), s.selection_set):
                    return False
            elif isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else tname
                if not walk(cond, s.selection_set):
                    return False
        return True

    walk(type_name, sel)
    return out


def is_resolvable_selection(sub: Subgraph, type_name: str, sel: SelectionSetNode) -> bool:
    """True when every field the selection names exists (an invalid field set marks nothing as used)."""
    t = sub.type(type_name)
    if t is None:
        return False
    for s in sel.selections:
        if isinstance(s, FieldNode):
            if s.name.value == "__typename":
                continue
            f = t.fields.get(s.name.value)
            if f is None:
                return False
            if s.selection_set is not None and not is_resolvable_selection(sub, named_type(f.type), s.selection_set):
                return False
        elif isinstance(s, InlineFragmentNode):
            cond = s.type_condition.name.value if s.type_condition else type_name
            if not is_resolvable_selection(sub, cond, s.selection_set):
                return False
    return True


def leaf_targets(sub: Subgraph, type_name: str, sel: SelectionSetNode) -> Iterator[SField]:
    """Fields selected without a sub-selection."""
    t = sub.type(type_name)
    if t is None:
        return
    for s in sel.selections:
        if isinstance(s, FieldNode):
            f = t.fields.get(s.name.value)
            if f is None:
                continue
            if s.selection_set is None:
                yield f
            else:
                yield from leaf_targets(sub, named_type(f.type), s.selection_set)
        elif isinstance(s, InlineFragmentNode):
            cond = s.type_condition.name.value if s.type_condition else type_name
            yield from leaf_targets(sub, cond, s.selection_set)


def is_composite(sub: Subgraph, name: str) -> bool:
    t = sub.type(name)
    return t is not None and t.kind in (OBJECT, INTERFACE, UNION)
