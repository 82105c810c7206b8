"""Field sets (`@key`/`@requires`/`@provides` `fields:`): parsing and the fields they select."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode
from graphql.language.parser import Parser

from .subgraph import INTERFACE, OBJECT, UNION, SField, Subgraph, named_type
from .values import print_directive, print_value


def parse_field_set(fields: str) -> SelectionSetNode:
    """Parse a field set the way Apollo's `parseSelectionSet` does (raises GraphQLError).

    The text is parsed as a document: wrapped in braces unless it already starts with one, then it must
    hold exactly one operation (`"{a} {b}"` is an error, `"{ a }"` is the same as `"a"`).
    """
    source = fields if fields.strip().startswith("{") else "{" + fields + "}"
    # graphql-core 3.3 accepts `{}` by default; graphql-js (Apollo's parser) does not, and its error
    # message ("Expected Name, found "}"") is the one users see.
    doc = Parser(source, no_location=True, allow_empty_selection_sets=False).parse_document()
    if len(doc.definitions) != 1:
        raise GraphQLError(f"Selections should contain a single definitions, found {len(doc.definitions)}")
    op = doc.definitions[0]
    if not isinstance(op, OperationDefinitionNode):
        kind = "".join(w.capitalize() for w in op.kind.split("_"))  # graphql-js spelling: FragmentDefinition
        raise GraphQLError(f"Expected an operation definition but got a {kind}")
    return op.selection_set


def print_selected_field(node: FieldNode) -> str:
    """A selected field as operations.ts `Field.toString` prints it: `alias: name(arg: value) @dir`."""
    args = ", ".join(f"{a.name.value}: {print_value(a.value)}" for a in node.arguments or ())
    shown = (f"{node.alias.value}: " if node.alias else "") + node.name.value + (f"({args})" if args else "")
    return shown + "".join(" " + print_directive(d) for d in node.directives or ())


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
            cond = _condition(sub, s, type_name)
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
                cond = _condition(sub, s, tname)
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
            cond = _condition(sub, s, type_name)
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
            cond = _condition(sub, s, type_name)
            yield from leaf_targets(sub, cond, s.selection_set)


def _condition(sub: Subgraph, fragment: InlineFragmentNode, parent: str) -> str:
    """The fragment's type; an unknown or missing condition reads as the parent (operations.ts FragmentElement)."""
    cond = fragment.type_condition.name.value if fragment.type_condition else parent
    return cond if sub.type(cond) is not None else parent


def is_composite(sub: Subgraph, name: str) -> bool:
    t = sub.type(name)
    return t is not None and t.kind in (OBJECT, INTERFACE, UNION)
