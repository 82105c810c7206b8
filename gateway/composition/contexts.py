"""`@context` / `@fromContext` (federation 2.8) validation: federation.ts `validateFieldValue` and friends.

A `@fromContext(field: "$ctx <selection>")` argument must name a context some type sets with
`@context(name:)`, and the selection must be valid on every such type and select exactly one value
whose type fits the argument's: one field (its type with non-null dropped, lists kept), or inline
fragments on the setter types that each select such a field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    SelectionSetNode,
    TypeNode,
)

from .fieldsets import parse_field_set, print_selected_field
from .subgraph import BUILTIN_DIRECTIVES, ENUM, INTERFACE, OBJECT, SCALAR, SArgument, SField, SType, Subgraph

# federation.ts `parseContext`: GraphQL ignored tokens (commas, comments) may surround `$` and the name.
_IGNORED = r"(?:[\n\r\t ,]|#[^\n\r]*(?![^\n\r]))*"
_CONTEXT_RE = re.compile(rf"^{_IGNORED}\${_IGNORED}([A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_]))([\s\S]*)$")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

ErrorSink = Callable[[str, str], None]


def parse_context(value: str) -> tuple[str, str] | None:
    """`$ctx { prop }` -> ("ctx", " { prop }") (federation.ts `parseContext`); None without a context."""
    m = _CONTEXT_RE.match(value)
    return (m.group(1), m.group(2)) if m else None


# A resolved selection type: a named type, or ("list", inner). Non-null is dropped (`wrapResolvedType`).
Resolved = str | tuple[str, "Resolved"]


def _show(t: Resolved | None) -> str:
    if t is None:
        return "undefined"  # Apollo prints the JavaScript value
    if isinstance(t, tuple):
        return "[" + _show(t[1]) + "]"
    return t


def _wrap(original: TypeNode, base: Resolved) -> Resolved:
    lists = 0
    while not isinstance(original, NamedTypeNode):
        if isinstance(original, ListTypeNode):
            lists += 1
        original = original.type  # type: ignore[attr-defined]
    for _ in range(lists):
        base = ("list", base)
    return base


def _fits(resolved: Resolved, expected: TypeNode) -> bool:
    """federation.ts `isValidImplementationFieldType(resolved, expected)`; a resolved type has no non-null."""
    if isinstance(resolved, tuple):
        return isinstance(expected, ListTypeNode) and _fits(resolved[1], expected.type)
    return isinstance(expected, NamedTypeNode) and expected.name.value == resolved


def _type_str(t: TypeNode) -> str:
    if isinstance(t, NonNullTypeNode):
        return _type_str(t.type) + "!"
    if isinstance(t, ListTypeNode):
        return "[" + _type_str(t.type) + "]"
    assert isinstance(t, NamedTypeNode)
    return t.name.value


def _base(t: TypeNode) -> str:
    while not isinstance(t, NamedTypeNode):
        t = t.type  # type: ignore[attr-defined]
    return t.name.value


class _Invalid(Exception):
    """The selection does not validate against a setter type (Apollo's parseSelectionSet error)."""


@dataclass
class _Selection:
    """A selection checked against a type: (field or fragment, its type, nested selections)."""

    node: FieldNode | InlineFragmentNode
    parent: SType
    field: SField | None  # None for an inline fragment
    type: SType | None  # type of the field / the fragment's condition (None for a leaf)
    children: list[_Selection]


class _Checker:
    def __init__(self, sub: Subgraph, error: ErrorSink) -> None:
        self.sub = sub
        self.error = error

    # -- building the selection against a setter type (operations.ts selectionSetOfNode + validate) ---------------

    def _known_directive(self, name: str) -> bool:
        return name in BUILTIN_DIRECTIVES or name in self.sub.directive_defs or name in self.sub.links.directives

    def _build(self, parent: SType, ss: SelectionSetNode) -> list[_Selection]:
        out: list[_Selection] = []
        for node in ss.selections:
            for d in node.directives or ():
                if not self._known_directive(d.name.value):
                    raise _Invalid(f'Unknown directive "@{d.name.value}"')
            if isinstance(node, FieldNode):
                name = node.name.value
                f = _typename_of(parent) if name == "__typename" else parent.fields.get(name)
                if f is None:
                    raise _Invalid(f'Cannot query field "{name}" on type "{parent.name}".')
                t = self.sub.type(_base(f.type))
                children: list[_Selection] = []
                if node.selection_set is not None and t is not None:
                    children = self._build(t, node.selection_set)
                out.append(_Selection(node, parent, f, t, children))
            elif isinstance(node, InlineFragmentNode):
                cond = self.sub.type(node.type_condition.name.value) if node.type_condition else parent
                target = cond or parent
                out.append(_Selection(node, parent, None, cond, self._build(target, node.selection_set)))
            else:
                assert isinstance(node, FragmentSpreadNode)
                raise _Invalid(f'Cannot find fragment name "{node.name.value}" (no fragments were provided)')
        return out

    def _validate(self, selections: list[_Selection]) -> None:
        for s in selections:
            if s.field is not None:
                f = s.field
                assert isinstance(s.node, FieldNode)
                given = {a.name.value for a in s.node.arguments or ()}
                for a in f.args.values():
                    if a.name not in given and a.default is None and isinstance(a.type, NonNullTypeNode) \
                            and not a.has("fromContext"):
                        raise _Invalid(f'Missing mandatory value for argument "{a.name}" of field "{f.coordinate}" '
                                       f'in selection "{print_selected_field(s.node)}"')
                leaf = s.type is None or s.type.kind in (SCALAR, ENUM)
                if not leaf and not s.children:
                    raise _Invalid(f'Invalid empty selection set for field "{f.coordinate}" of non-leaf type '
                                   f"{_type_str(f.type)}")
            self._validate(s.children)

    # -- the type a selection resolves to (federation.ts validateFieldValueType) ----------------------------------

    def _resolved(self, current: SType, selections: list[_Selection], coord: str) -> Resolved | None:
        if self.sub.is_interface_object(current):
            # Apollo's message, malformed quote included.
            self.error("CONTEXT_INVALID_SELECTION",
                       f'Context "is used in "{coord}" but the selection is invalid: One of the types in the '
                       f'selection is an interfaceObject: "{current.name}"')
        types: list[Resolved | None] = []
        for s in selections:
            if s.field is None:
                types.append(None)
                continue
            if s.children and s.type is not None:
                inner = self._resolved(s.type, s.children, coord)
                types.append(None if inner is None else _wrap(s.field.type, inner))
            else:
                types.append(_wrap(s.field.type, _base(s.field.type)))
        acc = types[0]
        for t in types[1:]:
            acc = t if _show(acc) == _show(t) else None
        return acc

    # -- one @fromContext argument (federation.ts validateFieldValue) ----------------------------------------------

    def check_value(self, context: str, selection: str, arg: SArgument, coord: str, setters: list[SType]) -> None:
        def invalid(why: str) -> None:
            self.error("CONTEXT_INVALID_SELECTION",
                       f'Context "{context}" is used in "{coord}" but the selection is invalid: {why}')

        expected = arg.type
        try:
            sel = parse_field_set(selection)
        except GraphQLSyntaxError as e:
            invalid(e.message.replace("'", '"'))
            return
        except GraphQLError as e:
            invalid(e.message)
            return
        first = sel.selections[0]
        conditions: list[str] = []
        if isinstance(first, FieldNode):
            if len(sel.selections) != 1:
                invalid("multiple selections are made")
                return
            kind = "field"
        elif isinstance(first, InlineFragmentNode):
            if not all(isinstance(s, InlineFragmentNode) for s in sel.selections):
                invalid("multiple fields could be selected")
                return
            for s in sel.selections:
                if isinstance(s, InlineFragmentNode) and s.type_condition \
                        and s.type_condition.name.value not in conditions:
                    conditions.append(s.type_condition.name.value)
            if len(conditions) != len(sel.selections):
                invalid("type conditions have same name")
                return
            kind = "fragment"
        else:
            invalid("fragment spread is not allowed")
            return

        used: set[str] = set()
        for setter in setters:
            try:
                built = self._build(setter, sel)
                self._validate(built)
            except _Invalid as e:
                self.error("CONTEXT_INVALID_SELECTION",
                           f'Context "{context}" is used in "{coord}" but the selection is invalid for type '
                           f"{setter.name}. Error: {e}")
                return
            if _has(built, lambda s: bool(s.node.directives)):
                invalid("directives are not allowed in the selection")
            if _has(built, lambda s: isinstance(s.node, FieldNode) and s.node.alias is not None):
                invalid("aliases are not allowed in the selection")
            if kind == "field":
                resolved = self._resolved(setter, built, coord)
                if resolved is None or not _fits(resolved, expected):
                    invalid(f'the type of the selection "{_show(resolved)}" does not match the expected type '
                            f'"{_type_str(expected)}"')
                    return
                continue
            matching: list[_Selection] = []
            for b in built:
                if b.field is not None:
                    invalid("selection should only contain a single field or at least one inline fragment}\"")
                    continue
                assert isinstance(b.node, InlineFragmentNode)
                if b.node.type_condition is None or b.type is None:
                    invalid('inline fragments must have type conditions"')
                    continue
                if b.type.kind == OBJECT:
                    if b.type.name in self.sub.possible_runtime_types(setter.name):
                        matching.append(b)
                        used.add(b.type.name)
                else:
                    invalid('type conditions must be an object type"')
            if not matching:
                invalid(f'no type condition matches the location "{setter.name}"')
                return
            for b in matching:
                assert b.type is not None
                resolved = self._resolved(b.type, b.children, coord)
                if resolved is None:
                    invalid(f'the type of the selection does not match the expected type "{_type_str(expected)}"')
                    return
                if not _fits(resolved, expected):
                    invalid(f'the type of the selection "{_show(resolved)}" does not match the expected type '
                            f'"{_type_str(expected)}"')
                    return
        if kind == "fragment":
            for cond in [c for c in conditions if c not in used]:
                invalid(f'type condition "{cond}" is never used.')


def _typename_of(parent: SType) -> SField:
    return SField(name="__typename", parent=parent.name,
                  type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="String"))))




def _has(selections: list[_Selection], pred: Callable[[_Selection], bool]) -> bool:
    return any(pred(s) or _has(s.children, pred) for s in selections)


def check_contexts(sub: Subgraph, error: ErrorSink) -> None:
    """Report every @context / @fromContext misuse of a subgraph through `error(code, message)`."""
    setters: dict[str, list[SType]] = {}
    for t in sub.types.values():
        for d in t.all("context"):
            name = d.str_arg("name") or ""
            if "_" in name:
                error("CONTEXT_NAME_INVALID", f'Context name "{name}" may not contain an underscore.')
            elif not _NAME_RE.match(name):
                error("CONTEXT_NAME_INVALID",
                      f'Context name "{name}" is invalid. It should have only alphanumeric characters.')
            setters.setdefault(name, []).append(t)
    checker = _Checker(sub, error)
    for ddef in sub.directive_defs.values():
        for a in ddef.args.values():
            if a.has("fromContext"):
                error("CONTEXT_NOT_SET",
                      f'@fromContext argument cannot be used on a directive definition "@{ddef.name}({a.name}:)".')
    for t in sub.types.values():
        for f in t.fields.values():
            for a in f.args.values():
                fc = a.get("fromContext")
                if fc is None:
                    continue
                coord = f"{f.coordinate}({a.name}:)"
                if t.kind != OBJECT:
                    error("CONTEXT_NOT_SET",
                          f'@fromContext argument cannot be used on a field that exists on an abstract type "{coord}".')
                    continue
                for iname in t.interfaces:
                    itype = sub.type(iname)
                    if itype is not None and itype.kind == INTERFACE and f.name in itype.fields:
                        error("CONTEXT_NOT_SET", "@fromContext argument cannot be used on a field implementing an "
                                                 f'interface field "{iname}.{f.name}".')
                if a.default is not None:
                    error("CONTEXT_NOT_SET", f'@fromContext arguments may not have a default value: "{coord}".')
                value = fc.str_arg("field") or ""
                parsed = parse_context(value)
                if parsed is None or not parsed[1]:
                    error("NO_CONTEXT_IN_SELECTION", f'@fromContext argument does not reference a context "{value}".')
                    continue
                context, selection = parsed
                if context not in setters:
                    error("CONTEXT_NOT_SET", f'Context "{context}" is used at location "{coord}" but is never set.')
                else:
                    checker.check_value(context, selection, a, coord, setters[context])
                if not any(k.bool_arg("resolvable") is not False for k in t.all("key")):
                    error("CONTEXT_NO_RESOLVABLE_KEY",
                          f'Object "{t.name}" has no resolvable key but has a field with a contextual argument.')

