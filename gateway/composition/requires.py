"""`@requires` against the merged schema (merge.ts `postMergeValidations`).

Each subgraph validates its `@requires` field sets against its own declarations, where the
required fields are `@external` copies. After the merge the selection must also be valid on the
supergraph field: an argument the subgraph passes may have been dropped from the merged field (it is
missing elsewhere), and an argument the subgraph leaves out may be required elsewhere.
"""

from __future__ import annotations

from graphql import FieldNode, GraphQLError, InlineFragmentNode, NonNullTypeNode, SelectionSetNode

from .errors import CompositionError
from .fieldsets import parse_field_set
from .model import MField, MType, Supergraph
from .reporter import subgraph_names
from .subgraph import INTERFACE, OBJECT, SArgument, Subgraph, named_type
from .values import print_directive


class _Problem(Exception):
    def __init__(self, kind: str, arg: str, field: MField) -> None:
        super().__init__(kind)
        self.kind = kind  # "unknown" | "missing"
        self.arg = arg
        self.field = field


def _required(a: SArgument) -> bool:
    return isinstance(a.type, NonNullTypeNode) and a.default is None


def _unknown_arguments(sg: Supergraph, t: MType, ss: SelectionSetNode) -> None:
    """Building the selection (operations.ts selectionOfNode): children first, then the field's arguments."""
    for s in ss.selections:
        if isinstance(s, FieldNode):
            f = t.fields.get(s.name.value)
            if f is None:
                continue
            if s.selection_set is not None and f.type is not None:
                child = sg.types.get(named_type(f.type))
                if child is not None:
                    _unknown_arguments(sg, child, s.selection_set)
            for a in s.arguments or ():
                if a.name.value not in f.args:
                    raise _Problem("unknown", a.name.value, f)
        elif isinstance(s, InlineFragmentNode):
            cond = sg.types.get(s.type_condition.name.value) if s.type_condition else t
            _unknown_arguments(sg, cond or t, s.selection_set)


def _missing_arguments(sg: Supergraph, t: MType, ss: SelectionSetNode) -> None:
    """Validating it (Field.validate): every required argument of the merged field is given."""
    for s in ss.selections:
        if isinstance(s, FieldNode):
            f = t.fields.get(s.name.value)
            if f is None:
                continue
            given = {a.name.value for a in s.arguments or ()}
            for a in f.args.values():
                if a.name not in given and isinstance(a.type, NonNullTypeNode) and a.default is None:
                    raise _Problem("missing", a.name, f)
            if s.selection_set is not None and f.type is not None:
                child = sg.types.get(named_type(f.type))
                if child is not None:
                    _missing_arguments(sg, child, s.selection_set)
        elif isinstance(s, InlineFragmentNode):
            cond = sg.types.get(s.type_condition.name.value) if s.type_condition else t
            _missing_arguments(sg, cond or t, s.selection_set)


def check_requires_on_supergraph(subs: list[Subgraph], sg: Supergraph) -> list[CompositionError]:
    """REQUIRES_INVALID_FIELDS for @requires selections whose arguments do not fit the merged fields."""

    errors: list[CompositionError] = []
    for i, sub in enumerate(subs):
        for t in sub.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            merged = sg.types.get(t.name)
            if merged is None:
                continue
            for f in t.fields.values():
                for d in f.all("requires"):
                    try:
                        sel = parse_field_set(d.str_arg("fields") or "")
                        _unknown_arguments(sg, merged, sel)
                        _missing_arguments(sg, merged, sel)
                    except GraphQLError:
                        continue  # reported by the subgraph's own validation
                    except _Problem as p:
                        owner, _, fname = p.field.coordinate.partition(".")
                        others = []
                        for j, other in enumerate(subs):
                            of = other.field(owner, fname)
                            if j == i or of is None:
                                continue
                            oa = of.args.get(p.arg)
                            if (p.kind == "unknown" and oa is None) or (
                                    p.kind == "missing" and oa is not None and _required(oa)):
                                others.append(other.name)
                        if not others:
                            continue  # Apollo asserts here; nothing sensible to report
                        where = subgraph_names(others)
                        if p.kind == "unknown":
                            why = (f'cannot provide a value for argument "{p.arg}" of field "{p.field.coordinate}" as '
                                   f'argument "{p.arg}" is not defined in {where}')
                        else:
                            why = (f'no value provided for argument "{p.arg}" of field "{p.field.coordinate}" but a '
                                   f'value is mandatory as "{p.arg}" is required in {where}')
                        errors.append(CompositionError(
                            "REQUIRES_INVALID_FIELDS",
                            f'[{sub.name}] On field "{f.coordinate}", for {print_directive(d.node)}: {why}',
                            [sub.name, *others]))
    return errors
